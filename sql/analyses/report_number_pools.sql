{% from "macros/figures.sql" import number_pool_rows %}
{{ number_pool_rows("one_business") }}
