project_name: "ringback"

# The BigQuery dataset of the analysts' views (setting bigquery_analytics_dataset): the BI
# contract LookML reads. Views never read the marts directly.
constant: analytics_dataset {
  value: "ringback_analytics"
  export: override_optional
}
