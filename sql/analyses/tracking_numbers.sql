{% from "macros/figures.sql" import tracking_number_rows %}
{{ tracking_number_rows() }}
