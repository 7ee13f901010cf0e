{#-
One-to-one matching, nearest first, inside each business (staging.unified_calls,
marts.crm_leads). `pairs` names a CTE of candidate pairs (business_id, left key, right key,
gap); the macro adds the CTEs up to `matched` (business_id, left key, right key, gap).

Global greedy matching equals iterated "locally dominant pair" matching when ties break in one
total order (gap, left key, right key): each round accepts every candidate pair that is the
best pair of both of its sides, then drops the keys it matched. Nearly every pair is
uncontested (neither key has another candidate): it is locally dominant in the first round and
shares no key with any other pair, so it is accepted directly, and the `rounds` rounds (the
match_rounds setting) run only on the small contested residue. The same result as the rounds
over every pair, at the cost of two counts instead of ranking everything `rounds` times.
-#}
{% macro nearest_first(pairs, left, right, gap, rounds) -%}
counted_pairs AS (
    SELECT
        *,
        COUNT(*) OVER (PARTITION BY business_id, {{ left }}) AS left_candidates,
        COUNT(*) OVER (PARTITION BY business_id, {{ right }}) AS right_candidates
    FROM {{ pairs }}
),
{% for round in range(rounds) %}

    round_{{ round }}_ranked AS (
        SELECT
            pairs.business_id,
            pairs.{{ left }},
            pairs.{{ right }},
            pairs.{{ gap }},
            ROW_NUMBER() OVER (
                PARTITION BY pairs.business_id, pairs.{{ left }}
                ORDER BY pairs.{{ gap }} ASC, pairs.{{ right }} ASC
            ) AS left_rank,
            ROW_NUMBER() OVER (
                PARTITION BY pairs.business_id, pairs.{{ right }}
                ORDER BY pairs.{{ gap }} ASC, pairs.{{ left }} ASC
            ) AS right_rank
        FROM counted_pairs AS pairs
        {%- if round > 0 %}
        LEFT JOIN matched_before_{{ round }} AS done_left
            ON
                pairs.business_id = done_left.business_id
                AND pairs.{{ left }} = done_left.{{ left }}
        LEFT JOIN matched_before_{{ round }} AS done_right
            ON
                pairs.business_id = done_right.business_id
                AND pairs.{{ right }} = done_right.{{ right }}
        {%- endif %}
        -- The contested residue: pairs sharing a key with another pair.
        WHERE
            (pairs.left_candidates > 1 OR pairs.right_candidates > 1)
            {%- if round > 0 %}
            AND done_left.{{ left }} IS NULL AND done_right.{{ right }} IS NULL
            {%- endif %}
    ),

    matched_before_{{ round + 1 }} AS (
        {%- if round > 0 %}
            SELECT
                business_id,
                {{ left }},
                {{ right }},
                {{ gap }}
            FROM matched_before_{{ round }}
            UNION ALL
        {%- endif %}
        SELECT
            business_id,
            {{ left }},
            {{ right }},
            {{ gap }}
        FROM round_{{ round }}_ranked
        WHERE left_rank = 1 AND right_rank = 1
    ),
{% endfor %}

matched AS (
    -- Uncontested pairs (neither key has another candidate) match as they are.
    SELECT
        business_id,
        {{ left }},
        {{ right }},
        {{ gap }}
    FROM counted_pairs
    WHERE left_candidates = 1 AND right_candidates = 1
    UNION ALL
    SELECT * FROM matched_before_{{ rounds }}
)
{%- endmacro %}
