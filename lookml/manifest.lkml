project_name: "ringback"

# The BigQuery dataset of the marts (setting bigquery_marts_dataset).
constant: marts_dataset {
  value: "ringback_marts"
  export: override_optional
}
