"""Script statements for the safe interpreter: assignment (plain, augmented, subscript), if/elif/else, for
over data, pass, break, continue, del and expression statements. Everything else (while, def, class, import,
try, with, global, return, raise...) is refused by the checking compiler."""

from __future__ import annotations

import ast
from collections.abc import Callable

from app.engine.expressions_compiler import BINOPS, MAX_DEPTH, Compiler, Fn, where
from app.engine.expressions_runtime import BreakLoop, Context, ContinueLoop, iterate
from app.errors import ExpressionFailed

_MISSING = object()


class ScriptCompiler(Compiler):
    def __init__(self, text: str) -> None:
        super().__init__(text, script=True)

    # --- statements (scripts only) --------------------------------------------------------------------

    def block(self, nodes: list[ast.stmt]) -> Callable[[Context], None]:
        stmts = [self.stmt(n) for n in nodes]

        def run(ctx: Context) -> None:
            for s in stmts:
                s(ctx)

        return run

    def stmt(self, node: ast.stmt) -> Callable[[Context], None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionFailed(
                f"script nested deeper than {MAX_DEPTH} levels{where(node)}", expression=self.text
            )
        try:
            method = getattr(self, "s_" + type(node).__name__, None)
            if method is None:
                raise self.forbidden(node)
            return method(node)
        finally:
            self.depth -= 1

    def s_Expr(self, node: ast.Expr) -> Callable[[Context], None]:
        value = self.expr(node.value)

        def run(ctx: Context) -> None:
            value(ctx)

        return run

    def s_Assign(self, node: ast.Assign) -> Callable[[Context], None]:
        targets, value = [self.store(t) for t in node.targets], self.expr(node.value)

        def run(ctx: Context) -> None:
            v = value(ctx)
            for t in targets:
                t(ctx, v)

        return run

    def s_AugAssign(self, node: ast.AugAssign) -> Callable[[Context], None]:
        op = BINOPS.get(type(node.op))
        if op is None:
            raise self.forbidden(node.op)
        target = node.target
        if isinstance(target, ast.Name):
            load: Fn = self.e_Name(ast.Name(id=target.id, ctx=ast.Load()))
        elif isinstance(target, ast.Subscript):
            load = self.e_Subscript(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()))
        elif isinstance(target, ast.Attribute):
            load = self.e_Attribute(ast.Attribute(value=target.value, attr=target.attr, ctx=ast.Load()))
        else:
            raise self.refuse(node, f"augmented assignment to {type(target).__name__}")
        save, value = self.store(target), self.expr(node.value)

        def run(ctx: Context) -> None:
            save(ctx, op(ctx, load(ctx), value(ctx)))

        return run

    def s_If(self, node: ast.If) -> Callable[[Context], None]:
        test, body, orelse = self.expr(node.test), self.block(node.body), self.block(node.orelse)

        def run(ctx: Context) -> None:
            if test(ctx):
                body(ctx)
            else:
                orelse(ctx)

        return run

    def s_For(self, node: ast.For) -> Callable[[Context], None]:
        target, source = self.store(node.target), self.expr(node.iter)
        self.loops += 1
        try:
            body = self.block(node.body)
        finally:
            self.loops -= 1
        orelse = self.block(node.orelse)

        def run(ctx: Context) -> None:
            for item in iterate(ctx, source(ctx)):
                ctx.tick()
                target(ctx, item)
                try:
                    body(ctx)
                except BreakLoop:
                    return
                except ContinueLoop:
                    continue
            orelse(ctx)

        return run

    def s_Pass(self, node: ast.Pass) -> Callable[[Context], None]:
        return lambda ctx: None

    def s_Break(self, node: ast.Break) -> Callable[[Context], None]:
        if not self.loops:
            raise self.refuse(node, "'break' outside a loop")

        def run(ctx: Context) -> None:
            raise BreakLoop

        return run

    def s_Continue(self, node: ast.Continue) -> Callable[[Context], None]:
        if not self.loops:
            raise self.refuse(node, "'continue' outside a loop")

        def run(ctx: Context) -> None:
            raise ContinueLoop

        return run

    def s_Delete(self, node: ast.Delete) -> Callable[[Context], None]:
        removers = [self.delete(t) for t in node.targets]

        def run(ctx: Context) -> None:
            for r in removers:
                r(ctx)

        return run

    def delete(self, node: ast.AST) -> Callable[[Context], None]:
        if isinstance(node, ast.Name):
            name = node.id
            self.check_name(node, name)

            def del_name(ctx: Context) -> None:
                if ctx.vars.pop(name, _MISSING) is _MISSING:
                    raise ctx.fail(f"name '{name}' is not defined")

            return del_name
        if isinstance(node, ast.Subscript):
            container, index = self.expr(node.value), self.slice(node.slice)

            def del_item(ctx: Context) -> None:
                obj = container(ctx)
                if type(obj) not in (dict, list):
                    raise ctx.fail(f"cannot delete from a value of type {type(obj).__name__}")
                del obj[index(ctx)]

            return del_item
        raise self.refuse(node, f"deleting {type(node).__name__}")


def compile_script(tree: ast.Module, text: str) -> Callable[[Context], None]:
    return ScriptCompiler(text).block(tree.body)
