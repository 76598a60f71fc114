"""JUEL (Camunda 7) and FEEL (Camunda 8) translated to Python `ast` trees, plus bare ISO 8601 timer text.

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
_tokenize_juel = _tokenizer(_JUEL_OPS, r"[A-Za-z_$][A-Za-z0-9_$]*", r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_tokenize_feel = _tokenizer(_FEEL_OPS, r"[A-Za-z_][A-Za-z0-9_]*", r"\"(?:[^\"\\]|\\.)*\"")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unquote(raw: str, feel: bool) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)) if feel else m.group(1), body)


# --- shared parser machinery ----------------------------------------------------------------------------


def _at(node: ast.expr, tok: Token) -> ast.expr:
    node.lineno, node.col_offset = 1, tok.pos  # type: ignore[attr-defined]
    node.end_lineno, node.end_col_offset = 1, tok.pos  # type: ignore[attr-defined]
    return node


def _name(name: str, tok: Token) -> ast.expr:
    return _at(ast.Name(id=name, ctx=ast.Load()), tok)


def _call(func: str, args: list[ast.expr], tok: Token) -> ast.expr:
    return _at(ast.Call(func=_name(func, tok), args=args, keywords=[]), tok)


def _compare(left: ast.expr, op: ast.cmpop, right: ast.expr, tok: Token) -> ast.expr:
    return _at(ast.Compare(left=left, ops=[op], comparators=[right]), tok)


def _binop(left: ast.expr, op: ast.operator, right: ast.expr, tok: Token) -> ast.expr:
    return _at(ast.BinOp(left=left, op=op, right=right), tok)


def _boolop(op: ast.boolop, values: list[ast.expr], tok: Token) -> ast.expr:
    return _at(ast.BoolOp(op=op, values=values), tok)


class _Parser:
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
            return _at(ast.Constant(float(v) if any(c in v for c in ".eE") else int(v)), t)
        if t.kind == "str":
            self.advance()
            return _at(ast.Constant(_unquote(t.value, self.dialect == "FEEL")), t)
        if t.kind == "name" and t.value in ("true", "false", "null"):
            self.advance()
            return _at(ast.Constant({"true": True, "false": False, "null": None}[t.value]), t)
        return None


# --- JUEL -----------------------------------------------------------------------------------------------

_JUEL_EQ = {"==": ast.Eq, "eq": ast.Eq, "!=": ast.NotEq, "ne": ast.NotEq}
_JUEL_REL = {
    "<": ast.Lt,
    "lt": ast.Lt,
    ">": ast.Gt,
    "gt": ast.Gt,
    "<=": ast.LtE,
    "le": ast.LtE,
    ">=": ast.GtE,
    "ge": ast.GtE,
}
_JUEL_MUL = {"*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod}
# Java method names common in Camunda models, mapped to our functions/methods.
_JAVA_METHODS = {
    "toUpperCase": "upper",
    "toLowerCase": "lower",
    "trim": "strip",
    "startsWith": "startswith",
    "endsWith": "endswith",
}


class JuelParser(_Parser):
    dialect = "JUEL"

    def expression(self) -> ast.expr:
        cond = self.or_()
        if self.at("?"):
            tok = self.advance()
            body = self.expression()
            self.expect(":")
            orelse = self.expression()
            return _at(ast.IfExp(test=cond, body=body, orelse=orelse), tok)
        return cond

    def or_(self) -> ast.expr:
        values = [self.and_()]
        tok = self.tok
        while self.at("||", "or"):
            self.advance()
            values.append(self.and_())
        return values[0] if len(values) == 1 else _boolop(ast.Or(), values, tok)

    def and_(self) -> ast.expr:
        values = [self.equality()]
        tok = self.tok
        while self.at("&&", "and"):
            self.advance()
            values.append(self.equality())
        return values[0] if len(values) == 1 else _boolop(ast.And(), values, tok)

    def equality(self) -> ast.expr:
        node = self.relational()
        while self.at(*_JUEL_EQ):
            tok = self.advance()
            node = _compare(node, _JUEL_EQ[tok.value](), self.relational(), tok)
        return node

    def relational(self) -> ast.expr:
        node = self.additive()
        while self.at(*_JUEL_REL):
            tok = self.advance()
            node = _compare(node, _JUEL_REL[tok.value](), self.additive(), tok)
        return node

    def additive(self) -> ast.expr:
        node = self.multiplicative()
        while self.at("+", "-"):
            tok = self.advance()
            node = _binop(node, ast.Add() if tok.value == "+" else ast.Sub(), self.multiplicative(), tok)
        return node

    def multiplicative(self) -> ast.expr:
        node = self.unary()
        while self.at(*_JUEL_MUL):
            tok = self.advance()
            node = _binop(node, _JUEL_MUL[tok.value](), self.unary(), tok)
        return node

    def unary(self) -> ast.expr:
        if self.at("-", "!", "not", "empty"):
            tok = self.advance()
            operand = self.unary()
            if tok.value == "empty":
                return _call("is_empty", [operand], tok)
            op = ast.USub() if tok.value == "-" else ast.Not()
            return _at(ast.UnaryOp(op=op, operand=operand), tok)
        return self.postfix()

    def postfix(self) -> ast.expr:
        node = self.primary()
        while True:
            if self.at("."):
                self.advance()
                tok = self.tok
                if tok.kind != "name":
                    raise self.error("expected a property name after '.'")
                self.advance()
                if self.at("("):
                    self.advance()
                    node = self.method(node, tok, self.items(")"))
                else:
                    node = _at(ast.Attribute(value=node, attr=tok.value, ctx=ast.Load()), tok)
            elif self.at("["):
                tok = self.advance()
                index = self.expression()
                self.expect("]")
                node = _at(ast.Subscript(value=node, slice=index, ctx=ast.Load()), tok)
            else:
                return node

    def method(self, obj: ast.expr, tok: Token, args: list[ast.expr]) -> ast.expr:
        name = tok.value
        if name in ("size", "length") and not args:
            return _call("len", [obj], tok)
        if name == "isEmpty" and not args:
            return _call("is_empty", [obj], tok)
        if name == "contains" and len(args) == 1:
            return _compare(args[0], ast.In(), obj, tok)
        if name == "equals" and len(args) == 1:
            return _compare(obj, ast.Eq(), args[0], tok)
        if (
            isinstance(obj, ast.Name)
            and obj.id == "execution"
            and name == "getVariable"
            and len(args) == 1
            and isinstance(args[0], ast.Constant)
            and isinstance(args[0].value, str)
        ):
            return _name(args[0].value, tok)
        func = _at(ast.Attribute(value=obj, attr=_JAVA_METHODS.get(name, name), ctx=ast.Load()), tok)
        return _at(ast.Call(func=func, args=args, keywords=[]), tok)

    def primary(self) -> ast.expr:
        lit = self.literal()
        if lit is not None:
            return lit
        tok = self.tok
        if tok.kind == "name":
            self.advance()
            if self.at("("):
                self.advance()
                return _call(tok.value, self.items(")"), tok)
            return _name(tok.value, tok)
        if self.at("("):
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if self.at("["):
            self.advance()
            return _at(ast.List(elts=self.items("]"), ctx=ast.Load()), tok)
        if self.at("{"):
            self.advance()
            keys, values = [], []
            while not self.at("}"):
                keys.append(self.expression())
                self.expect(":")
                values.append(self.expression())
                if not self.at("}"):
                    self.expect(",")
            self.advance()
            return _at(ast.Dict(keys=keys, values=values), tok)
        raise self.error("expected a value")


def _juel_segments(text: str) -> list[tuple[str, int, str]]:
    """Split `Hello ${name}!` into ('text', pos, 'Hello '), ('expr', pos, 'name'), ('text', pos, '!')."""
    out: list[tuple[str, int, str]] = []
    i, start = 0, 0
    while i < len(text):
        if text[i] in "$#" and text.startswith("{", i + 1):
            if i > start:
                out.append(("text", start, text[start:i]))
            j, depth, quote = i + 2, 1, ""
            while j < len(text) and depth:
                c = text[j]
                if quote:
                    if c == "\\":
                        j += 1
                    elif c == quote:
                        quote = ""
                elif c in "'\"":
                    quote = c
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                j += 1
            if depth:
                raise ExpressionFailed(
                    f"JUEL: '{text[i : i + 2]}' at column {i + 1} is never closed", expression=text
                )
            out.append(("expr", i + 2, text[i + 2 : j - 1]))
            i = start = j
        else:
            i += 1
    if start < len(text):
        out.append(("text", start, text[start:]))
    return out


def parse_juel(text: str) -> ast.expr:
    """`${expr}` gives the value itself; text mixed with `${...}` gives a string (null renders empty)."""
    segments = _juel_segments(text)
    exprs = [s for s in segments if s[0] == "expr"]
    parts: list[ast.expr] = []
    for kind, pos, chunk in segments:
        if kind == "expr":
            if not chunk.strip():
                raise ExpressionFailed(f"JUEL: empty expression at column {pos - 1}", expression=text)
            node = JuelParser(_tokenize_juel(chunk, pos, text), text).parse()
            if len(exprs) == 1 and all(s[0] == "expr" or not s[2].strip() for s in segments):
                return node
            tok = Token("op", "", pos)
            parts.append(
                _at(
                    ast.FormattedValue(value=_call("_text", [node], tok), conversion=-1, format_spec=None),
                    tok,
                )
            )
        else:
            parts.append(_at(ast.Constant(chunk), Token("str", chunk, pos)))
    return _at(ast.JoinedStr(values=parts), Token("op", "", 0))


# --- FEEL -----------------------------------------------------------------------------------------------

_FEEL_CMP = {"=": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}
# FEEL built-ins (some with spaces in their names) onto our functions.
_FEEL_FUNCTIONS = {
    "not": "_not",
    "count": "_count",
    "sum": "sum",
    "min": "min",
    "max": "max",
    "abs": "abs",
    "contains": "_contains",
    "list contains": "_contains",
    "starts with": "_starts_with",
    "ends with": "_ends_with",
    "upper case": "_upper",
    "lower case": "_lower",
    "string length": "len",
    "string": "_text",
    "number": "float",
    "date": "date",
    "date and time": "datetime",
    "now": "now",
    "today": "today",
    "duration": "_duration",
    "is empty": "is_empty",
}
_FEEL_MULTIWORD = sorted((k.split() for k in _FEEL_FUNCTIONS if " " in k), key=len, reverse=True)
_FEEL_KEYWORDS = {
    "if",
    "then",
    "else",
    "for",
    "in",
    "return",
    "some",
    "every",
    "satisfies",
    "and",
    "or",
    "between",
}


class FeelParser(_Parser):
    dialect = "FEEL"

    def expression(self) -> ast.expr:
        tok = self.tok
        if self.at("if"):
            self.advance()
            cond = self.expression()
            self.expect("then")
            body = self.expression()
            self.expect("else")
            return _at(ast.IfExp(test=cond, body=body, orelse=self.expression()), tok)
        if self.at("for", "some", "every") and self.peek().kind == "name" and self.peek(2).value == "in":
            self.advance()
            var = self.advance()
            self.expect("in")
            source = self.expression()
            if tok.value == "for":
                self.expect("return")
            else:
                self.expect("satisfies")
            body = self.expression()
            target = _at(ast.Name(id=var.value, ctx=ast.Store()), var)
            comp = ast.comprehension(target=target, iter=source, ifs=[], is_async=0)
            node = _at(ast.ListComp(elt=body, generators=[comp]), tok)
            if tok.value == "for":
                return node
            return _call("any" if tok.value == "some" else "all", [node], tok)
        return self.disjunction()

    def disjunction(self) -> ast.expr:
        values = [self.conjunction()]
        tok = self.tok
        while self.at("or"):
            self.advance()
            values.append(self.conjunction())
        return values[0] if len(values) == 1 else _boolop(ast.Or(), values, tok)

    def conjunction(self) -> ast.expr:
        values = [self.comparison()]
        tok = self.tok
        while self.at("and"):
            self.advance()
            values.append(self.comparison())
        return values[0] if len(values) == 1 else _boolop(ast.And(), values, tok)

    def comparison(self) -> ast.expr:
        node = self.additive()
        tok = self.tok
        if self.at(*_FEEL_CMP) and tok.kind == "op":
            self.advance()
            return _compare(node, _FEEL_CMP[tok.value](), self.additive(), tok)
        if self.at("between"):
            self.advance()
            low = self.additive()
            self.expect("and")
            high = self.additive()
            return _at(ast.Compare(left=low, ops=[ast.LtE(), ast.LtE()], comparators=[node, high]), tok)
        if self.at("in"):
            self.advance()
            return _compare(node, ast.In(), self.additive(), tok)
        return node

    def additive(self) -> ast.expr:
        node = self.multiplicative()
        while self.at("+", "-"):
            tok = self.advance()
            node = _binop(node, ast.Add() if tok.value == "+" else ast.Sub(), self.multiplicative(), tok)
        return node

    def multiplicative(self) -> ast.expr:
        node = self.power()
        while self.at("*", "/"):
            tok = self.advance()
            node = _binop(node, ast.Mult() if tok.value == "*" else ast.Div(), self.power(), tok)
        return node

    def power(self) -> ast.expr:
        node = self.unary()
        while self.at("**"):
            tok = self.advance()
            node = _binop(node, ast.Pow(), self.unary(), tok)
        return node

    def unary(self) -> ast.expr:
        if self.at("-"):
            tok = self.advance()
            return _at(ast.UnaryOp(op=ast.USub(), operand=self.unary()), tok)
        return self.postfix()

    def postfix(self) -> ast.expr:
        node = self.primary()
        while True:
            if self.at(".") and self.tok.kind == "op":
                self.advance()
                tok = self.tok
                if tok.kind != "name":
                    raise self.error("expected a name after '.'")
                self.advance()
                node = _at(ast.Attribute(value=node, attr=tok.value, ctx=ast.Load()), tok)
            elif self.at("["):
                tok = self.advance()
                inner = self.expression()
                self.expect("]")
                node = self.filter(node, inner, tok)
            else:
                return node

    def filter(self, seq: ast.expr, inner: ast.expr, tok: Token) -> ast.expr:
        """`list[2]` is 1-based access; `list[item > 10]` keeps the items for which the test holds."""
        is_test = isinstance(inner, ast.Compare | ast.BoolOp) or (
            isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == "_not"
        )
        if not is_test:
            return _call("_feel_index", [seq, inner], tok)
        target = _at(ast.Name(id="item", ctx=ast.Store()), tok)
        comp = ast.comprehension(target=target, iter=seq, ifs=[inner], is_async=0)
        return _at(ast.ListComp(elt=_name("item", tok), generators=[comp]), tok)

    def primary(self) -> ast.expr:
        lit = self.literal()
        if lit is not None:
            return lit
        tok = self.tok
        if tok.kind == "name":
            for words in _FEEL_MULTIWORD:
                n = len(words)
                if [self.peek(k).value for k in range(n)] == words and self.peek(n).value == "(":
                    self.i += n
                    return self.function(" ".join(words), tok)
            if tok.value in _FEEL_KEYWORDS:
                raise self.error("expected a value")
            self.advance()
            if self.at("("):
                return self.function(tok.value, tok)
            return _name(tok.value, tok)
        if self.at("("):
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if self.at("["):
            self.advance()
            return _at(ast.List(elts=self.items("]"), ctx=ast.Load()), tok)
        if self.at("{"):
            self.advance()
            keys: list[ast.expr | None] = []
            values = []
            while not self.at("}"):
                key = self.advance()
                if key.kind not in ("name", "str"):
                    raise self.error("expected a context key")
                value = key.value if key.kind == "name" else _unquote(key.value, True)
                keys.append(_at(ast.Constant(value), key))
                self.expect(":")
                values.append(self.expression())
                if not self.at("}"):
                    self.expect(",")
            self.advance()
            return _at(ast.Dict(keys=keys, values=values), tok)
        raise self.error("expected a value")

    def function(self, name: str, tok: Token) -> ast.expr:
        self.expect("(")
        args = self.items(")")
        target = _FEEL_FUNCTIONS.get(name)
        if target is None:
            raise ExpressionFailed(
                f"FEEL: unknown function '{name}' at column {tok.pos + 1}", expression=self.text
            )
        return _call(target, args, tok)


def parse_feel(text: str) -> ast.expr:
    """Camunda 8 form: the text starts with '='."""
    body_start = text.index("=") + 1
    return FeelParser(_tokenize_feel(text[body_start:], body_start, text), text).parse()
