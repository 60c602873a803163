"""DuckDB check SQL → Spark SQL: one definition of every check, transpiled with sqlglot.

Each term's check is written once, in DuckDB's dialect (`workbench.evidence.checks`): it is
what DuckDB runs and what the finding stores. For Spark it is parsed with sqlglot and written
in Spark's dialect; where the two engines differ in *meaning*, not just spelling, the tree is
rewritten first so that Spark computes the same numbers (tested against DuckDB on the demo's
and the benchmark's evidence, `tests/evidence/test_spark_engine.py`):

| DuckDB | Spark, as rewritten here | why |
|---|---|---|
| ``epoch(ts)`` (seconds, with microseconds) | ``unix_micros(ts) / 1e6`` | sqlglot's ``unix_timestamp`` drops the fraction |
| ``isfinite(x)`` | ``NOT isnan(x) AND abs(x) <> Infinity`` | no such function |
| ``quantile_cont(x, p)`` (p a number or a list) | ``percentile(x, p)`` | exact, linear interpolation, like DuckDB |
| ``histogram(x, edges)`` (per edge the rows with ``x ≤ edge`` above the previous edge, every edge listed with 0, and ``inf`` for rows above the last when there are any) | a grouped count by that upper edge, rebuilt into the same map | no exact binned-count aggregate |
| ``unnest(map_keys(h)) AS k, unnest(map_values(h)) AS n`` (zipped) | ``explode(h) AS (k, n)`` | one generator per SELECT |
| ``list(v ORDER BY k)`` | ``transform(array_sort(collect_list(struct(k, v))), …)`` | ``collect_list`` keeps no order |
| an aggregate inside a lambda (``list_transform(range(1, b), lambda i: min(x) + …)``) | the aggregates computed in a subquery first | Spark allows no aggregate in a lambda |
| ``TIMESTAMPTZ '… +00'`` | ``TIMESTAMP '…Z'`` under the session time zone UTC | Spark's TIMESTAMP is instant-based (like TIMESTAMPTZ) |

Anything this module cannot express raises `NotTranspilable`: the term is `error` on Spark,
never silently a different computation.
"""

from __future__ import annotations

import itertools
import re

import sqlglot
from sqlglot import exp

INF = "CAST('Infinity' AS DOUBLE)"


class NotTranspilable(ValueError):
    """The SQL uses something Spark cannot compute the same way."""


def parse_duckdb(sql: str) -> exp.Expression:
    try:
        tree = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise NotTranspilable(f"sqlglot cannot parse the SQL: {_first_line(str(exc))}") from None
    statements = [t for t in tree if t is not None]
    if len(statements) != 1:
        raise NotTranspilable(f"{len(statements)} statements; exactly one SELECT is allowed")
    return statements[0]


def to_spark(sql: str) -> str:
    """The Spark SQL computing what `sql` (DuckDB dialect) computes."""
    return spark_sql_of(parse_duckdb(sql))


def spark_sql_of(tree: exp.Expression) -> str:
    tree = tree.copy()
    counter = itertools.count()
    for rewrite in _SCALAR_REWRITES:
        tree = tree.transform(rewrite, copy=False)
    for select in list(tree.find_all(exp.Select)):
        _hoist_lambda_aggregates(select, counter)
    for select in list(tree.find_all(exp.Select)):
        _rewrite_histogram(select, counter)
    for select in list(tree.find_all(exp.Select)):
        _zip_map_unnest(select)
    try:
        return tree.sql(dialect="spark")
    except sqlglot.errors.UnsupportedError as exc:  # pragma: no cover - unsupported_level
        raise NotTranspilable(str(exc)) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _parse_spark_expr(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="spark")


def _name(node: exp.Expression) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def _epoch(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.TimeToUnix):
        # epoch(): seconds with the microseconds, as DOUBLE.
        return exp.Paren(
            this=exp.Div(
                this=exp.Anonymous(this="unix_micros", expressions=[node.this]),
                expression=_parse_spark_expr("1e6"),
            )
        )
    return node


def _isfinite(node: exp.Expression) -> exp.Expression:
    if _name(node) == "isfinite":
        (arg,) = node.expressions
        return exp.Paren(
            this=_parse_spark_expr(f"NOT isnan(__x) AND abs(__x) <> {INF}").transform(
                lambda n: arg.copy() if isinstance(n, exp.Column) and n.name == "__x" else n
            )
        )
    return node


def _quantile(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    return node


def _timestamptz_literal(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.TIMESTAMPTZ:
        inner = node.this
        if isinstance(inner, exp.Literal) and inner.is_string:
            # TIMESTAMPTZ '2026-11-27 09:00:00.000000+00' (checks.ts_lit): UTC.
            text = re.sub(r"\+00(:?00)?$", "Z", inner.this)
            return exp.Cast(this=exp.Literal.string(text), to=exp.DataType.build("TIMESTAMP"))
    return node


def _ordered_list_agg(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node.this)
    return node


_SCALAR_REWRITES = (_timestamptz_literal, _epoch, _isfinite, _quantile, _ordered_list_agg)


def _ordered_list(order: exp.Order) -> exp.Expression:
    keys = order.expressions
    if len(keys) != 1 or keys[0].args.get("desc"):
        raise NotTranspilable("list(... ORDER BY ...) with more than one ascending key")
    pair = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("k"), expression=keys[0].this.copy()),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=order.this.copy()),
        ]
    )
    collected = exp.Anonymous(
        this="array_sort",
        expressions=[exp.Anonymous(this="collect_list", expressions=[pair])],
    )
    return exp.Transform(
        this=collected,
        expression=exp.Lambda(
            this=exp.Dot(this=exp.column("s"), expression=exp.to_identifier("v")),
            expressions=[exp.to_identifier("s")],
        ),
    )


def _own_aggregates(select: exp.Select, node: exp.Expression) -> list[exp.AggFunc]:
    """Aggregates of `select` itself inside `node` (not of a nested subquery)."""
    found = []
    for agg in node.find_all(exp.AggFunc):
        if agg.find_ancestor(exp.Select) is select:
            found.append(agg)
    return found


def _hoist_lambda_aggregates(select: exp.Select, counter: itertools.count) -> None:
    lambdas = [
        lam
        for proj in select.expressions
        for lam in proj.find_all(exp.Lambda)
        if _own_aggregates(select, lam)
    ]
    if not lambdas:
        return
    if select.args.get("group") or select.args.get("having"):
        raise NotTranspilable("an aggregate inside a lambda of a grouped SELECT")
    inner = exp.Select()
    names: dict[str, str] = {}
    for proj in select.expressions:
        for agg in _own_aggregates(select, proj):
            key = agg.sql("duckdb")
            if key not in names:
                names[key] = f"__a{next(counter)}"
                inner = inner.select(exp.alias_(agg.copy(), names[key]), copy=False)
            agg.replace(exp.column(names[key]))
    for arg in ("from_", "joins", "where", "laterals"):
        if select.args.get(arg) is not None:
            inner.set(arg, select.args[arg])
            select.set(arg, None)
    select.set(
        "from_",
        exp.From(
            this=exp.Subquery(
                this=inner, alias=exp.TableAlias(this=exp.to_identifier(f"__h{next(counter)}"))
            )
        ),
    )


def _rewrite_histogram(select: exp.Select, counter: itertools.count) -> None:
    hist = [
        n
        for proj in select.expressions
        for n in proj.find_all(exp.Anonymous)
        if _name(n) == "histogram" and n.find_ancestor(exp.Select) is select
    ]
    if not hist:
        return
    proj = select.expressions
    if (
        len(hist) != 1
        or len(proj) != 1
        or not isinstance(proj[0], exp.Alias)
        or proj[0].this is not hist[0]
        or len(hist[0].expressions) != 2
        or select.args.get("group")
    ):
        raise NotTranspilable(
            "histogram() is transpiled only as `SELECT histogram(x, edges) AS h FROM …`"
        )
    value, edges = (e.copy() for e in hist[0].expressions)
    alias = proj[0].alias
    n = next(counter)
    # The bin of a value: the first edge it does not exceed (right-closed), else +inf.
    # The edges become a column first: Spark allows no subquery inside a lambda.
    bucket = exp.Coalesce(
        this=exp.Anonymous(
            this="element_at",
            expressions=[
                exp.Anonymous(
                    this="filter",
                    expressions=[
                        exp.column("__e"),
                        exp.Lambda(
                            this=exp.LTE(this=exp.column("__x"), expression=exp.column("__b")),
                            expressions=[exp.to_identifier("__b")],
                        ),
                    ],
                ),
                exp.Literal.number(1),
            ],
        ),
        expressions=[_parse_spark_expr(INF)],
    )
    source = exp.Select(expressions=[exp.alias_(value, "__x"), exp.alias_(edges.copy(), "__e")])
    for arg in ("from_", "joins", "where", "laterals"):
        if select.args.get(arg) is not None:
            source.set(arg, select.args[arg])
    rows = exp.select(exp.alias_(bucket, "__k")).from_(
        exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier(f"__s{n}")))
    )
    grouped = (
        exp.select("__k", "count(*) AS __n")
        .from_(exp.Subquery(this=rows, alias=exp.TableAlias(this=exp.to_identifier(f"__r{n}"))))
        .group_by("__k")
    )
    collected = exp.Select(
        expressions=[
            exp.alias_(
                _parse_spark_expr("map_from_entries(collect_list(struct(__k, __n)))"), "__m"
            ),
            exp.alias_(
                exp.Anonymous(
                    this="concat",
                    expressions=[edges, _parse_spark_expr(f"array({INF})")],
                ),
                "__keys",
            ),
        ]
    ).from_(exp.Subquery(this=grouped, alias=exp.TableAlias(this=exp.to_identifier(f"__g{n}"))))
    # Every edge with its count (0 when empty), the +inf bin only when it holds rows, and
    # NULL over no rows at all: DuckDB's histogram() exactly.
    rebuilt = _parse_spark_expr(
        "CASE WHEN size(__m) = 0 THEN NULL ELSE map_filter("
        "map_from_arrays(__keys, transform(__keys, __b -> coalesce(element_at(__m, __b), 0))),"
        f" (__key, __cnt) -> __cnt > 0 OR __key <> {INF}) END"
    )
    select.set("expressions", [exp.alias_(rebuilt, alias)])
    for arg in ("joins", "where", "laterals"):
        select.set(arg, None)
    select.set(
        "from_",
        exp.From(
            this=exp.Subquery(
                this=collected, alias=exp.TableAlias(this=exp.to_identifier(f"__c{n}"))
            )
        ),
    )


def _zip_map_unnest(select: exp.Select) -> None:
    proj = select.expressions
    explodes = [p for p in proj if isinstance(p, exp.Alias) and isinstance(p.this, exp.Explode)]
    if not explodes:
        return
    if len(explodes) == 1 and len(proj) == 1:
        return
    if (
        len(proj) == 2
        and len(explodes) == 2
        and isinstance(proj[0].this.this, exp.MapKeys)
        and _name(proj[1].this.this) == "map_values"
        and proj[1].this.this.expressions
        and proj[0].this.this.this == proj[1].this.this.expressions[0]
    ):
        source = proj[0].this.this.this.copy()
        select.set(
            "expressions",
            [
                exp.Aliases(
                    this=exp.Explode(this=source),
                    expressions=[
                        exp.to_identifier(proj[0].alias),
                        exp.to_identifier(proj[1].alias),
                    ],
                )
            ],
        )
        return
    raise NotTranspilable("more than one unnest() in a SELECT (Spark allows one generator)")
