"""FEEL (Camunda 8, text starting with `=`) translated to a Python `ast` tree checked by the same compiler."""

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
    tokenize_feel,
    unquote,
)
from app.errors import ExpressionFailed

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


class FeelParser(ExpressionParser):
    dialect = "FEEL"

    def expression(self) -> ast.expr:
        tok = self.tok
        if self.at("if"):
            self.advance()
            cond = self.expression()
            self.expect("then")
            body = self.expression()
            self.expect("else")
            return at(ast.IfExp(test=cond, body=body, orelse=self.expression()), tok)
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
            target = at(ast.Name(id=var.value, ctx=ast.Store()), var)
            comp = ast.comprehension(target=target, iter=source, ifs=[], is_async=0)
            node = at(ast.ListComp(elt=body, generators=[comp]), tok)
            if tok.value == "for":
                return node
            return call("any" if tok.value == "some" else "all", [node], tok)
        return self.disjunction()

    def disjunction(self) -> ast.expr:
        values = [self.conjunction()]
        tok = self.tok
        while self.at("or"):
            self.advance()
            values.append(self.conjunction())
        return values[0] if len(values) == 1 else boolop(ast.Or(), values, tok)

    def conjunction(self) -> ast.expr:
        values = [self.comparison()]
        tok = self.tok
        while self.at("and"):
            self.advance()
            values.append(self.comparison())
        return values[0] if len(values) == 1 else boolop(ast.And(), values, tok)

    def comparison(self) -> ast.expr:
        node = self.additive()
        tok = self.tok
        if self.at(*_FEEL_CMP) and tok.kind == "op":
            self.advance()
            return compare(node, _FEEL_CMP[tok.value](), self.additive(), tok)
        if self.at("between"):
            self.advance()
            low = self.additive()
            self.expect("and")
            high = self.additive()
            return at(ast.Compare(left=low, ops=[ast.LtE(), ast.LtE()], comparators=[node, high]), tok)
        if self.at("in"):
            self.advance()
            return compare(node, ast.In(), self.additive(), tok)
        return node

    def multiplicative(self) -> ast.expr:
        node = self.power()
        while self.at("*", "/"):
            tok = self.advance()
            node = binop(node, ast.Mult() if tok.value == "*" else ast.Div(), self.power(), tok)
        return node

    def power(self) -> ast.expr:
        node = self.unary()
        while self.at("**"):
            tok = self.advance()
            node = binop(node, ast.Pow(), self.unary(), tok)
        return node

    def unary(self) -> ast.expr:
        if self.at("-"):
            tok = self.advance()
            return at(ast.UnaryOp(op=ast.USub(), operand=self.unary()), tok)
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
                node = at(ast.Attribute(value=node, attr=tok.value, ctx=ast.Load()), tok)
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
            return call("_feel_index", [seq, inner], tok)
        target = at(ast.Name(id="item", ctx=ast.Store()), tok)
        comp = ast.comprehension(target=target, iter=seq, ifs=[inner], is_async=0)
        return at(ast.ListComp(elt=name_node("item", tok), generators=[comp]), tok)

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
            return name_node(tok.value, tok)
        grouped = self.group_or_list()
        if grouped is not None:
            return grouped
        if self.at("{"):
            self.advance()
            keys: list[ast.expr | None] = []
            values = []
            while not self.at("}"):
                key = self.advance()
                if key.kind not in ("name", "str"):
                    raise self.error("expected a context key")
                value = key.value if key.kind == "name" else unquote(key.value, True)
                keys.append(at(ast.Constant(value), key))
                self.expect(":")
                values.append(self.expression())
                if not self.at("}"):
                    self.expect(",")
            self.advance()
            return at(ast.Dict(keys=keys, values=values), tok)
        raise self.error("expected a value")

    def function(self, name: str, tok: Token) -> ast.expr:
        self.expect("(")
        args = self.items(")")
        target = _FEEL_FUNCTIONS.get(name)
        if target is None:
            raise ExpressionFailed(
                f"FEEL: unknown function '{name}' at column {tok.pos + 1}", expression=self.text
            )
        return call(target, args, tok)


def parse_feel(text: str) -> ast.expr:
    """Camunda 8 form: the text starts with '='."""
    body_start = text.index("=") + 1
    return FeelParser(tokenize_feel(text[body_start:], body_start, text), text).parse()
