"""JUEL (Camunda 7 `${...}` / `#{...}`) translated to a Python `ast` tree checked by the same compiler."""

from __future__ import annotations

import ast

from app.engine.dialects import (
    ExpressionParser,
    Token,
    at,
    binop,
    boolop,
    call,
    compare,
    name_node,
    tokenize_juel,
)
from app.errors import ExpressionFailed

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
# Camunda's Joda-Time helper `${dateTime().plusDays(2).toDate()}` (its documented due-date idiom).
_JODA_SHIFTS = {
    "plusDays": ("days", 1), "plusWeeks": ("days", 7), "plusHours": ("hours", 1), "plusMinutes": ("minutes", 1),
    "plusSeconds": ("seconds", 1), "minusDays": ("days", 1), "minusWeeks": ("days", 7),
    "minusHours": ("hours", 1), "minusMinutes": ("minutes", 1), "minusSeconds": ("seconds", 1),
}


class JuelParser(ExpressionParser):
    dialect = "JUEL"

    def expression(self) -> ast.expr:
        cond = self.or_()
        if self.at("?"):
            tok = self.advance()
            body = self.expression()
            self.expect(":")
            orelse = self.expression()
            return at(ast.IfExp(test=cond, body=body, orelse=orelse), tok)
        return cond

    def or_(self) -> ast.expr:
        values = [self.and_()]
        tok = self.tok
        while self.at("||", "or"):
            self.advance()
            values.append(self.and_())
        return values[0] if len(values) == 1 else boolop(ast.Or(), values, tok)

    def and_(self) -> ast.expr:
        values = [self.equality()]
        tok = self.tok
        while self.at("&&", "and"):
            self.advance()
            values.append(self.equality())
        return values[0] if len(values) == 1 else boolop(ast.And(), values, tok)

    def equality(self) -> ast.expr:
        node = self.relational()
        while self.at(*_JUEL_EQ):
            tok = self.advance()
            node = compare(node, _JUEL_EQ[tok.value](), self.relational(), tok)
        return node

    def relational(self) -> ast.expr:
        node = self.additive()
        while self.at(*_JUEL_REL):
            tok = self.advance()
            node = compare(node, _JUEL_REL[tok.value](), self.additive(), tok)
        return node

    def multiplicative(self) -> ast.expr:
        node = self.unary()
        while self.at(*_JUEL_MUL):
            tok = self.advance()
            node = binop(node, _JUEL_MUL[tok.value](), self.unary(), tok)
        return node

    def unary(self) -> ast.expr:
        if self.at("-", "!", "not", "empty"):
            tok = self.advance()
            operand = self.unary()
            if tok.value == "empty":
                return call("is_empty", [operand], tok)
            op = ast.USub() if tok.value == "-" else ast.Not()
            return at(ast.UnaryOp(op=op, operand=operand), tok)
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
                    node = at(ast.Attribute(value=node, attr=tok.value, ctx=ast.Load()), tok)
            elif self.at("["):
                tok = self.advance()
                index = self.expression()
                self.expect("]")
                node = at(ast.Subscript(value=node, slice=index, ctx=ast.Load()), tok)
            else:
                return node

    def method(self, obj: ast.expr, tok: Token, args: list[ast.expr]) -> ast.expr:
        name = tok.value
        if name in ("size", "length") and not args:
            return call("len", [obj], tok)
        if name == "isEmpty" and not args:
            return call("is_empty", [obj], tok)
        if name == "contains" and len(args) == 1:
            return compare(args[0], ast.In(), obj, tok)
        if name == "equals" and len(args) == 1:
            return compare(obj, ast.Eq(), args[0], tok)
        if name in _JODA_SHIFTS and len(args) == 1:
            unit, factor = _JODA_SHIFTS[name]
            amount = args[0] if factor == 1 else at(ast.BinOp(left=args[0], op=ast.Mult(),
                                                              right=at(ast.Constant(factor), tok)), tok)
            op: ast.operator = ast.Add() if name.startswith("plus") else ast.Sub()
            return at(ast.BinOp(left=obj, op=op, right=call(unit, [amount], tok)), tok)
        if name == "toDate" and not args:
            return obj
        if (
            isinstance(obj, ast.Name)
            and obj.id == "execution"
            and name == "getVariable"
            and len(args) == 1
            and isinstance(args[0], ast.Constant)
            and isinstance(args[0].value, str)
        ):
            return name_node(args[0].value, tok)
        func = at(ast.Attribute(value=obj, attr=_JAVA_METHODS.get(name, name), ctx=ast.Load()), tok)
        return at(ast.Call(func=func, args=args, keywords=[]), tok)

    def primary(self) -> ast.expr:
        lit = self.literal()
        if lit is not None:
            return lit
        tok = self.tok
        if tok.kind == "name":
            self.advance()
            if self.at("("):
                self.advance()
                args = self.items(")")
                if tok.value == "dateTime" and not args:  # Joda-Time's current instant
                    return call("now", [], tok)
                return call(tok.value, args, tok)
            return name_node(tok.value, tok)
        grouped = self.group_or_list()
        if grouped is not None:
            return grouped
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
            return at(ast.Dict(keys=keys, values=values), tok)
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
            node = JuelParser(tokenize_juel(chunk, pos, text), text).parse()
            if len(exprs) == 1 and all(s[0] == "expr" or not s[2].strip() for s in segments):
                return node
            tok = Token("op", "", pos)
            parts.append(
                at(
                    ast.FormattedValue(value=call("_text", [node], tok), conversion=-1, format_spec=None),
                    tok,
                )
            )
        else:
            parts.append(at(ast.Constant(chunk), Token("str", chunk, pos)))
    return at(ast.JoinedStr(values=parts), Token("op", "", 0))
