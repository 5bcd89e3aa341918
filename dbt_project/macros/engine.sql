{# What differs between the engines the project runs on (docs/spark.md): DuckDB, the embedded
   default, and Apache Spark (dbt-spark; dbt-databricks shares its SQL). Each construct one
   engine spells differently is a macro dispatched on the adapter (duckdb__, spark__), so no
   model is written twice. #}

{# Before a Spark build (`dbt run-operation register_spark_sources`, ingest/spark.py): the dbt
   sources (the loader's raw and meta tables, exported as Parquet into
   SWPM_SPARK_SOURCES/<schema>/<table>/) as tables over those folders. DuckDB reads the
   loader's tables themselves: nothing to do. #}
{% macro register_spark_sources() -%}
    {{ return(adapter.dispatch('register_spark_sources')()) }}
{%- endmacro %}

{% macro default__register_spark_sources() -%}{%- endmacro %}

{% macro spark__register_spark_sources() -%}
    {%- if execute -%}
        {%- set root = env_var('SWPM_SPARK_SOURCES') -%}
        {%- set seen = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- set folder = root ~ '/' ~ node.schema ~ '/' ~ node.identifier -%}
            {%- if node.schema not in seen -%}
                {%- do run_query('create database if not exists ' ~ node.schema) -%}
                {%- do seen.append(node.schema) -%}
            {%- endif -%}
            {%- do run_query('drop table if exists ' ~ node.schema ~ '.' ~ node.identifier) -%}
            {%- do run_query('create table ' ~ node.schema ~ '.' ~ node.identifier ~ " using parquet location '" ~ folder ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# dbt-spark's session method binds an empty CSV cell as the string 'None' (dbt-spark issue
   901); seeds are small, so their values are written as literals, an empty cell as NULL. #}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}cast(null as {{ type }})
                    {%- else -%}cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}

{# Incremental models: DuckDB replaces the changed keys (delete+insert); Parquet tables on
   Spark cannot delete rows, so there each build rebuilds the table whole (a full rebuild gives
   the same rows as an incremental one: the DuckDB tests prove it). #}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization')()) }}
{%- endmacro %}

{% macro default__incremental_materialization() -%}{{ return('incremental') }}{%- endmacro %}

{% macro spark__incremental_materialization() -%}{{ return('table') }}{%- endmacro %}

{# A column type on Spark (seeds, contracts): VARCHAR needs a length there, STRING is its
   unbounded text; DuckDB's TIMESTAMP is naive, Spark's TIMESTAMP_NTZ. #}
{% macro spark_seed_type(type) -%}
    {{ return({'varchar': 'string', 'timestamp': 'timestamp_ntz'}.get(type | lower, type)) }}
{%- endmacro %}

{# A cast on Spark (dbt's cast macro, which the model contracts use): VARCHAR as STRING. #}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_seed_type(type) }})
{%- endmacro %}

{# dbt-spark's seed table, with the column types of dbt_project.yml in Spark's spelling. #}
{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set type = spark_seed_type(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }}{%- if not loop.last -%}, {%- endif -%}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ location_clause() }}
        {{ comment_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}{{ sql }}{%- endcall -%}
    {{ return(sql) }}
{%- endmacro %}

{# The unbounded text type (VARCHAR on DuckDB, STRING on Spark). #}
{% macro string_type() -%}{{ return(adapter.dispatch('string_type')()) }}{%- endmacro %}
{% macro default__string_type() -%}{{ return('varchar') }}{%- endmacro %}
{% macro spark__string_type() -%}{{ return('string') }}{%- endmacro %}

{# An exact integer wide enough for sums of squares (HUGEINT on DuckDB). #}
{% macro big_integer_type() -%}{{ return(adapter.dispatch('big_integer_type')()) }}{%- endmacro %}
{% macro default__big_integer_type() -%}{{ return('hugeint') }}{%- endmacro %}
{% macro spark__big_integer_type() -%}{{ return('decimal(38, 0)') }}{%- endmacro %}

{# The literal 100 of a percentage: DuckDB's 100.0 times an integer then divided is DOUBLE;
   Spark keeps DECIMAL through the division, so there it is a DOUBLE from the start (the same
   value: both divide two doubles). #}
{% macro hundred() -%}{{ return(adapter.dispatch('hundred')()) }}{%- endmacro %}
{% macro default__hundred() -%}100.0{%- endmacro %}
{% macro spark__hundred() -%}cast(100 as double){%- endmacro %}

{# A number as DOUBLE where the engine would keep DECIMAL: DuckDB divides an integer by a
   decimal literal (x / 3600.0) in DOUBLE, Spark in DECIMAL. DuckDB's SQL is left as it is. #}
{% macro as_double(expr) -%}{{ return(adapter.dispatch('as_double')(expr)) }}{%- endmacro %}
{% macro default__as_double(expr) -%}{{ expr }}{%- endmacro %}
{% macro spark__as_double(expr) -%}cast({{ expr }} as double){%- endmacro %}

{# A DOUBLE rounded to `digits` decimals as DuckDB rounds it: round(value x 10^digits) / 10^digits
   in floating point. Spark rounds the double's exact binary value, so a value printed as a tie
   (487.29725, in binary just below it) goes down there and up on DuckDB. #}
{% macro round_double(value, digits) -%}{{ return(adapter.dispatch('round_double')(value, digits)) }}{%- endmacro %}
{% macro default__round_double(value, digits) -%}round({{ value }}, {{ digits }}){%- endmacro %}
{% macro spark__round_double(value, digits) -%}(round(({{ value }}) * 1e{{ digits }}) / 1e{{ digits }}){%- endmacro %}

{# Seconds since 1970 of a naive timestamp (DOUBLE), and milliseconds (BIGINT). Spark reads the
   loader's naive timestamps as TIMESTAMP_NTZ; the session time zone is UTC (profiles.yml). #}
{% macro epoch_seconds(ts) -%}{{ return(adapter.dispatch('epoch_seconds')(ts)) }}{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}epoch({{ ts }}){%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}(unix_micros(cast({{ ts }} as timestamp)) / 1e6){%- endmacro %}

{% macro epoch_milliseconds(ts) -%}{{ return(adapter.dispatch('epoch_milliseconds')(ts)) }}{%- endmacro %}
{% macro default__epoch_milliseconds(ts) -%}epoch_ms({{ ts }}){%- endmacro %}
{% macro spark__epoch_milliseconds(ts) -%}unix_millis(cast({{ ts }} as timestamp)){%- endmacro %}

{# Whole minute boundaries crossed from `from_ts` to `to_ts` (DuckDB's date_diff('minute'));
   Spark's timestampdiff counts whole minutes elapsed instead, so there the truncated minutes
   are subtracted. #}
{% macro minutes_between(from_ts, to_ts) -%}{{ return(adapter.dispatch('minutes_between')(from_ts, to_ts)) }}{%- endmacro %}
{% macro default__minutes_between(from_ts, to_ts) -%}date_diff('minute', {{ from_ts }}, {{ to_ts }}){%- endmacro %}
{% macro spark__minutes_between(from_ts, to_ts) -%}
    ((unix_seconds(cast(date_trunc('minute', {{ to_ts }}) as timestamp)) - unix_seconds(cast(date_trunc('minute', {{ from_ts }}) as timestamp))) div 60)
{%- endmacro %}

{# The date `months` months before `day` (a first of the month stays one). #}
{% macro months_before(day, months) -%}{{ return(adapter.dispatch('months_before')(day, months)) }}{%- endmacro %}
{% macro default__months_before(day, months) -%}{{ day }} - to_months({{ months }}){%- endmacro %}
{% macro spark__months_before(day, months) -%}add_months({{ day }}, -{{ months }}){%- endmacro %}

{# The select list of one branch of a union by name: each of `columns`, NULL where the branch
   (`present`: its columns) has none. Union by name has no Spark equivalent. #}
{% macro columns_or_null(columns, present) -%}
    {%- for column in columns -%}
        {{ column if column in present else 'null' }} as {{ column }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{# Days from one date to another. #}
{% macro days_between(from_date, to_date) -%}{{ return(adapter.dispatch('days_between')(from_date, to_date)) }}{%- endmacro %}
{% macro default__days_between(from_date, to_date) -%}date_diff('day', {{ from_date }}, {{ to_date }}){%- endmacro %}
{% macro spark__days_between(from_date, to_date) -%}cast(datediff({{ to_date }}, {{ from_date }}) as bigint){%- endmacro %}

{# A date written yyyymmdd. #}
{% macro date_from_yyyymmdd(text) -%}{{ return(adapter.dispatch('date_from_yyyymmdd')(text)) }}{%- endmacro %}
{% macro default__date_from_yyyymmdd(text) -%}strptime({{ text }}, '%Y%m%d')::date{%- endmacro %}
{% macro spark__date_from_yyyymmdd(text) -%}to_date({{ text }}, 'yyyyMMdd'){%- endmacro %}

{# A timestamp or date formatted as text: `format` in strftime's codes (%Y, %m, %d, %H, %M). #}
{% macro format_time(ts, format) -%}{{ return(adapter.dispatch('format_time')(ts, format)) }}{%- endmacro %}
{% macro default__format_time(ts, format) -%}strftime({{ ts }}, '{{ format }}'){%- endmacro %}
{% macro spark__format_time(ts, format) -%}
    date_format({{ ts }}, '{{ format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd') | replace('%H', 'HH') | replace('%M', 'mm') }}')
{%- endmacro %}

{# Text from a template with {} placeholders: `text_format_function()(text_template(...), values...)`
   (DuckDB's format; Spark's format_string takes printf's %s). #}
{% macro text_format_function() -%}{{ return(adapter.dispatch('text_format_function')()) }}{%- endmacro %}
{% macro default__text_format_function() -%}{{ return('format') }}{%- endmacro %}
{% macro spark__text_format_function() -%}{{ return('format_string') }}{%- endmacro %}
{% macro text_template(template) -%}{{ return(adapter.dispatch('text_template')(template)) }}{%- endmacro %}
{% macro default__text_template(template) -%}'{{ template }}'{%- endmacro %}
{% macro spark__text_template(template) -%}'{{ template | replace('%', '%%') | replace('{}', '%s') }}'{%- endmacro %}

{# A 64-bit hash of some columns (Spark's hash() is 32-bit: xxhash64). #}
{% macro key_hash(columns) -%}{{ return(adapter.dispatch('key_hash')(columns)) }}{%- endmacro %}
{% macro default__key_hash(columns) -%}hash({{ columns }}){%- endmacro %}
{% macro spark__key_hash(columns) -%}xxhash64({{ columns }}){%- endmacro %}

{# Every column of `relation_star` (e.g. `t.*` or `*`) but `columns`. #}
{% macro star_but(relation_star, columns) -%}{{ return(adapter.dispatch('star_but')(relation_star, columns)) }}{%- endmacro %}
{% macro default__star_but(relation_star, columns) -%}{{ relation_star }} exclude ({{ columns | join(', ') }}){%- endmacro %}
{% macro spark__star_but(relation_star, columns) -%}{{ relation_star }} except ({{ columns | join(', ') }}){%- endmacro %}

{# Semi and anti joins: rows of the left side with (without) a match, each once. #}
{% macro semi_join() -%}{{ return(adapter.dispatch('semi_join')()) }}{%- endmacro %}
{% macro default__semi_join() -%}semi join{%- endmacro %}
{% macro spark__semi_join() -%}left semi join{%- endmacro %}
{% macro anti_join() -%}{{ return(adapter.dispatch('anti_join')()) }}{%- endmacro %}
{% macro default__anti_join() -%}anti join{%- endmacro %}
{% macro spark__anti_join() -%}left anti join{%- endmacro %}

{# Equality that holds between two NULLs too (a join on group columns that may be NULL). #}
{% macro null_safe_equal(left, right) -%}{{ return(adapter.dispatch('null_safe_equal')(left, right)) }}{%- endmacro %}
{% macro default__null_safe_equal(left, right) -%}({{ left }} is not distinct from {{ right }}){%- endmacro %}
{% macro spark__null_safe_equal(left, right) -%}({{ left }} <=> {{ right }}){%- endmacro %}

{# Exact (interpolated) quantiles of `value`: one share, or a list of them (then a list, read
   with list_item, 1-based). DuckDB's quantile_cont interpolates lo * (1 - d) + hi * d in
   DOUBLE, d the fraction of the position (n - 1) * share in the sorted values; Spark's
   percentile weighs lo by ceil(position) - position, which differs from 1 - d in the last
   digit. So on Spark the sorted values are interpolated as DuckDB does (Spark computes the
   sorted list once for all shares of one column). #}
{% macro exact_quantile(value, shares) -%}{{ return(adapter.dispatch('exact_quantile')(value, shares)) }}{%- endmacro %}
{% macro default__exact_quantile(value, shares) -%}
    quantile_cont({{ value }}, {% if shares is iterable %}[{{ shares | join(', ') }}]{% else %}{{ shares }}{% endif %})
{%- endmacro %}
{% macro spark__exact_quantile(value, shares) -%}
    {%- if shares is iterable -%}
        array({% for share in shares %}{{ spark_interpolated_quantile(value, share) }}{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        {{ spark_interpolated_quantile(value, shares) }}
    {%- endif -%}
{%- endmacro %}
{% macro spark_interpolated_quantile(value, share) -%}
    {%- set sorted = "array_sort(collect_list(cast(" ~ value ~ " as double)))" -%}
    {%- set position = "((size(" ~ sorted ~ ") - 1) * cast(" ~ share ~ " as double))" -%}
    {%- set lo = "element_at(" ~ sorted ~ ", cast(floor(" ~ position ~ ") as int) + 1)" -%}
    {%- set hi = "element_at(" ~ sorted ~ ", cast(ceil(" ~ position ~ ") as int) + 1)" -%}
    {%- set weight = "(" ~ position ~ " - floor(" ~ position ~ "))" -%}
    case when count({{ value }}) > 0 then {{ lo }} * (1 - {{ weight }}) + {{ hi }} * {{ weight }} end
{%- endmacro %}

{% macro list_item(list, position) -%}{{ return(adapter.dispatch('list_item')(list, position)) }}{%- endmacro %}
{% macro default__list_item(list, position) -%}{{ list }}[{{ position }}]{%- endmacro %}
{% macro spark__list_item(list, position) -%}element_at({{ list }}, {{ position }}){%- endmacro %}

{# The first day of each month from `first_month` to `last_month`, as rows of column `name`. #}
{% macro month_series(first_month, last_month, name) -%}{{ return(adapter.dispatch('month_series')(first_month, last_month, name)) }}{%- endmacro %}
{% macro default__month_series(first_month, last_month, name) -%}
    (select cast(generate_series as date) as {{ name }} from generate_series({{ first_month }}, {{ last_month }}, interval 1 month))
{%- endmacro %}
{% macro spark__month_series(first_month, last_month, name) -%}
    (select explode(sequence({{ first_month }}, {{ last_month }}, interval 1 month)) as {{ name }})
{%- endmacro %}

{# A fingerprint of text rows: md5 of the rows sorted and joined by ';' ('' when none). #}
{% macro md5_of_sorted(row_text) -%}{{ return(adapter.dispatch('md5_of_sorted')(row_text)) }}{%- endmacro %}
{% macro default__md5_of_sorted(row_text) -%}md5(coalesce(string_agg({{ row_text }}, ';' order by {{ row_text }}), '')){%- endmacro %}
{% macro spark__md5_of_sorted(row_text) -%}md5(coalesce(array_join(array_sort(collect_list({{ row_text }})), ';'), '')){%- endmacro %}

{# Whether the whole of `text` matches `pattern`. #}
{% macro full_match(text, pattern) -%}{{ return(adapter.dispatch('full_match')(text, pattern)) }}{%- endmacro %}
{% macro default__full_match(text, pattern) -%}regexp_full_match({{ text }}, '{{ pattern }}'){%- endmacro %}
{% macro spark__full_match(text, pattern) -%}({{ text }} rlike '^(?:{{ pattern }})$'){%- endmacro %}

{# The earliest timestamp, for "every row": DuckDB's -infinity (Spark would read it as NULL,
   and a test comparing with NULL checks no row). #}
{% macro earliest_timestamp() -%}{{ return(adapter.dispatch('earliest_timestamp')()) }}{%- endmacro %}
{% macro default__earliest_timestamp() -%}'-infinity'::timestamp{%- endmacro %}
{% macro spark__earliest_timestamp() -%}timestamp'0001-01-01 00:00:00'{%- endmacro %}

{# Now in Korea, naive. #}
{% macro now_in_korea() -%}{{ return(adapter.dispatch('now_in_korea')()) }}{%- endmacro %}
{% macro default__now_in_korea() -%}cast(timezone('Asia/Seoul', now()) as timestamp){%- endmacro %}
{% macro spark__now_in_korea() -%}from_utc_timestamp(current_timestamp(), 'Asia/Seoul'){%- endmacro %}

{# One row per non-null value of the `columns` of `relation`, with the `keep` columns, the
   column's name in `name` and its value in `value`. #}
{% macro unpivot_columns(relation, keep, columns, name, value) -%}
    {{ return(adapter.dispatch('unpivot_columns')(relation, keep, columns, name, value)) }}
{%- endmacro %}
{% macro default__unpivot_columns(relation, keep, columns, name, value) -%}
    unpivot (
        select {{ (keep + columns) | join(', ') }}
        from {{ relation }}
    )
    on {{ columns | join(', ') }}
    into name {{ name }} value {{ value }}
{%- endmacro %}
{% macro spark__unpivot_columns(relation, keep, columns, name, value) -%}
    select * from (select {{ (keep + columns) | join(', ') }} from {{ relation }})
    unpivot ({{ value }} for {{ name }} in ({{ columns | join(', ') }}))
{%- endmacro %}

{# The keyword that has DuckDB read a CTE's rows at each of its uses instead of writing them all
   once, first (its default for a CTE read more than once): `not materialized`, on a full build
   only unless `on_incremental`. Measured at a year (docs/performance.md, the eighth pass): the
   TRS marts' period rows, every declaration of the history twice, were copied past the memory
   limit to disk on a full build (trs_release_time 44.6 -> 33.0 s alone, trs_cohort_comparison
   46.3 -> 38.6 s, trs_release_curve 11.9 -> 8.0 s), while a night's rows, one year's, are read
   faster once written (except by trs_release_curve). Empty on other engines and at parse. #}
{% macro inlined_cte(on_incremental=false) -%}{{ return(adapter.dispatch('inlined_cte')(on_incremental)) }}{%- endmacro %}
{% macro default__inlined_cte(on_incremental) -%}{%- endmacro %}
{% macro duckdb__inlined_cte(on_incremental) -%}
    {%- if execute and (on_incremental or not is_incremental()) -%}not materialized{%- endif -%}
{%- endmacro %}
