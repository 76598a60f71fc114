"""What JUEL (Camunda 7) and FEEL (Camunda 8) share: tokens, the parser base and `ast` node builders; plus
bare ISO 8601 timer text. The dialects themselves live in dialect_juel.py and dialect_feel.py.

The trees these parsers build go through the same checking compiler as Python-subset text, so a translation
can never reach anything the Python subset cannot. Helper functions the translations call start with '_'
(user text cannot name them)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import ExpressionFailed

# --- ISO 8601 timer text as Camunda Modeler writes it (PT24H, 2026-12-01T09:00:00Z, R3/PT1H) -------------
_DURATION = (
    r"P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?"
)
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_POINT = f"(?:{_DURATION}|{_DATETIME})"
ISO8601 = re.compile(f"(?:{_DURATION}|{_DATETIME}|R\\d*/{_POINT}(?:/{_POINT})?)")


def is_iso8601(text: str) -> bool:
    """A bare duration, date-time or repeating interval, e.g. `PT24H`, `2026-12-01T09:00:00Z`, `R3/PT1H`."""
    return ISO8601.fullmatch(text) is not None


# --- tokens ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, name, op, end
    value: str
    pos: int


_NUMBER = r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"


def _tokenizer(ops: list[str], name: str, string: str) -> Callable[[str, int, str], list[Token]]:
    pattern = re.compile(
        rf"\s*(?:(?P<num>{_NUMBER})|(?P<str>{string})|(?P<name>{name})|(?P<op>"
        + "|".join(re.escape(o) for o in sorted(ops, key=len, reverse=True))
        + "))"
    )

    def tokenize(text: str, offset: int, whole: str) -> list[Token]:
        tokens, pos = [], 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            m = pattern.match(text, pos)
            if m is None or m.end() == pos:
                raise ExpressionFailed(
                    f"unexpected character {text[pos]!r} at column {offset + pos + 1}", expression=whole
                )
            kind = m.lastgroup or "op"
            tokens.append(Token(kind, m.group(kind), offset + m.start(kind)))
            pos = m.end()
        tokens.append(Token("end", "", offset + len(text)))
        return tokens

    return tokenize


_JUEL_OPS = [
    "&&",
    "||",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "?",
    ":",
    ".",
    "[",
    "]",
    "(",
    ")",
    ",",
    "{",
    "}",
]
_FEEL_OPS = [
    "**",
    "!=",
    "<=",
    ">=",
    "..",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    ".",
    "[",
    "]",
    "(",
    ")",
    ",",
    "{",
    "}",
    ":",
]
tokenize_juel = _tokenizer(_JUEL_OPS, r"[A-Za-z_$][A-Za-z0-9_$]*", r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
tokenize_feel = _tokenizer(_FEEL_OPS, r"[A-Za-z_][A-Za-z0-9_]*", r"\"(?:[^\"\\]|\\.)*\"")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def unquote(raw: str, feel: bool) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)) if feel else m.group(1), body)


# --- shared parser machinery ----------------------------------------------------------------------------


def at(node: ast.expr, tok: Token) -> ast.expr:
    node.lineno, node.col_offset = 1, tok.pos  # type: ignore[attr-defined]
    node.end_lineno, node.end_col_offset = 1, tok.pos  # type: ignore[attr-defined]
    return node


def name_node(identifier: str, tok: Token) -> ast.expr:
    return at(ast.Name(id=identifier, ctx=ast.Load()), tok)


def call(func: str, args: list[ast.expr], tok: Token) -> ast.expr:
    return at(ast.Call(func=name_node(func, tok), args=args, keywords=[]), tok)


def compare(left: ast.expr, op: ast.cmpop, right: ast.expr, tok: Token) -> ast.expr:
    return at(ast.Compare(left=left, ops=[op], comparators=[right]), tok)


def binop(left: ast.expr, op: ast.operator, right: ast.expr, tok: Token) -> ast.expr:
    return at(ast.BinOp(left=left, op=op, right=right), tok)


def boolop(op: ast.boolop, values: list[ast.expr], tok: Token) -> ast.expr:
    return at(ast.BoolOp(op=op, values=values), tok)


class ExpressionParser:
    dialect = ""

    def __init__(self, tokens: list[Token], text: str) -> None:
        self.tokens, self.i, self.text = tokens, 0, text

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *values: str) -> bool:
        t = self.tok
        return t.kind in ("op", "name") and t.value in values

    def expect(self, value: str) -> Token:
        if not self.at(value):
            raise self.error(f"expected '{value}'")
        return self.advance()

    def error(self, what: str) -> ExpressionFailed:
        t = self.tok
        found = "end of expression" if t.kind == "end" else repr(t.value)
        return ExpressionFailed(
            f"{self.dialect}: {what}, found {found} at column {t.pos + 1}", expression=self.text
        )

    def parse(self) -> ast.expr:
        node = self.expression()
        if self.tok.kind != "end":
            raise self.error("unexpected text")
        return node

    def expression(self) -> ast.expr:
        raise NotImplementedError

    def multiplicative(self) -> ast.expr:
        raise NotImplementedError  # each dialect has its own operators above `+`/`-`

    def additive(self) -> ast.expr:
        """`a + b - c`: the same in JUEL and FEEL."""
        node = self.multiplicative()
        while self.at("+", "-"):
            tok = self.advance()
            node = binop(node, ast.Add() if tok.value == "+" else ast.Sub(), self.multiplicative(), tok)
        return node

    def group_or_list(self) -> ast.expr | None:
        """`( expr )` and `[ a, b ]`, the same in JUEL and FEEL; None when neither starts here."""
        tok = self.tok
        if self.at("("):
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if self.at("["):
            self.advance()
            return at(ast.List(elts=self.items("]"), ctx=ast.Load()), tok)
        return None

    def items(self, close: str) -> list[ast.expr]:
        out: list[ast.expr] = []
        while not self.at(close):
            out.append(self.expression())
            if not self.at(close):
                self.expect(",")
        self.expect(close)
        return out

    def literal(self) -> ast.expr | None:
        t = self.tok
        if t.kind == "num":
            self.advance()
            v = t.value
            return at(ast.Constant(float(v) if any(c in v for c in ".eE") else int(v)), t)
        if t.kind == "str":
            self.advance()
            return at(ast.Constant(unquote(t.value, self.dialect == "FEEL")), t)
        if t.kind == "name" and t.value in ("true", "false", "null"):
            self.advance()
            return at(ast.Constant({"true": True, "false": False, "null": None}[t.value]), t)
        return None
