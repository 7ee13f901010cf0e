# One row per missed primary call, with what became of it.
view: missed_calls {
  sql_table_name: `@{marts_dataset}.missed_calls` ;;

  dimension: business_id {
    label: "Business"
    description: "The business (client, brand) the row belongs to; every figure is within one."
    type: string
    sql: ${TABLE}.business_id ;;
  }
  dimension: row_key {
    primary_key: yes
    hidden: yes
    type: string
    sql: CONCAT(${TABLE}.business_id, '|', ${TABLE}.call_key) ;;
  }

  dimension: call_key {
    type: string
    sql: ${TABLE}.call_key ;;
  }
  dimension: customer_hash {
    type: string
    sql: ${TABLE}.customer_hash ;;
  }
  dimension_group: missed {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.missed_date ;;
  }
  dimension: missed_status {
    type: string
    sql: ${TABLE}.missed_status ;;
  }
  dimension: traffic_source {
    type: string
    sql: COALESCE(${TABLE}.traffic_source, '(unknown)') ;;
  }
  dimension: campaign {
    type: string
    sql: ${TABLE}.campaign ;;
  }
  dimension: outcome {
    type: string
    sql: ${TABLE}.outcome ;;
    description: "recovered_retry, recovered_callback, not_recovered or pending."
  }
  dimension: recovery_minutes {
    type: number
    sql: ${TABLE}.recovery_seconds / 60.0 ;;
  }
  dimension: recovery_lag_bucket {
    type: tier
    tiers: [5, 15, 60, 240, 720]
    style: integer
    sql: ${recovery_minutes} ;;
  }

  measure: missed_calls {
    type: count
  }
  measure: recovered_calls {
    type: count
    filters: [outcome: "recovered_retry,recovered_callback"]
  }
  measure: recovery_rate {
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${recovered_calls}, ${missed_calls}) ;;
  }
  measure: median_recovery_minutes {
    type: median
    sql: ${recovery_minutes} ;;
  }
}
