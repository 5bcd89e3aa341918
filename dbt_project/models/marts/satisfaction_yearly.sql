-- User satisfaction per survey year and respondent segment, overall and per question item.
-- Every answered item counts once (skipped items are left out, never scored zero); scores are
-- normalised from the Likert scale (var satisfaction_scale_points) to 0-100; the top-2-box
-- share is the share of answers in the two best boxes. 'ALL' rows are computed from answers,
-- not averaged from finer rows. Both are exact: integer answers summed and counted, divided
-- once (macros/bsc.sql likert_mean_100, macros/exact.sql).
with responses as (
    select * from {{ ref('stg_survey__responses') }}
),

answers as (
    {{ unpivot_columns(
        'responses', ['survey_year', 'segment', 'wave', 'respondent_id'], survey_items(), 'item', 'score'
    ) }}
),

scored as (
    select
        survey_year as year,
        segment,
        item,
        wave || '/' || respondent_id as respondent_key,
        score,
        {{ is_top_2_box('score') }} as is_top_2_box
    from answers
)

select
    year,
    {{ rollup_dim('segment') }} as segment,
    {{ rollup_dim('item') }} as item,
    count(distinct respondent_key) as responses,
    count(*) as answers,
    round({{ likert_mean_100('score') }}, 2) as mean_score_100,
    round({{ exact_share('is_top_2_box') }}, 4) as top_2_box_share,
    count(distinct item) as item_count
from scored
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS
group by grouping sets ((year), (year, segment), (year, item), (year, segment, item))
