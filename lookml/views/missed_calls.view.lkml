# One row per missed primary call, with what became of it (the analysts' view
# analytics.missed_calls, which defines the recovery rate's two parts).
view: missed_calls {
  sql_table_name: `@{analytics_dataset}.missed_calls` ;;

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
    description: "recovered_retry, recovered_callback, not_recovered, pending or abandoned_short (a hang-up within the business's short_abandon_seconds, counted apart)."
  }
  dimension: is_abandoned_short {
    type: yesno
    sql: ${TABLE}.is_abandoned_short ;;
    description: "The caller hung up within the business's short_abandon_seconds of ringing: not a missed call in the rates."
  }
  dimension: is_recovered {
    type: yesno
    sql: ${TABLE}.is_recovered ;;
    description: "A retry or a callback became a conversation within the window."
  }
  dimension: is_resolved {
    type: yesno
    sql: ${TABLE}.is_resolved ;;
    description: "The window has closed or the call was recovered (not pending), and it is no short hang-up."
  }
  dimension: recovery_minutes {
    type: number
    sql: ${TABLE}.recovery_minutes ;;
  }
  dimension: recovery_lag_bucket {
    type: tier
    tiers: [5, 15, 60, 240, 720]
    style: integer
    sql: ${recovery_minutes} ;;
  }

  measure: missed_calls {
    type: count
    filters: [is_abandoned_short: "no"]
    description: "Missed first calls, short hang-ups left out (as in analytics.missed_call_recovery_daily)."
  }
  measure: abandoned_short {
    type: count
    filters: [is_abandoned_short: "yes"]
    description: "Short hang-ups, counted apart."
  }
  measure: recovered_calls {
    type: count
    filters: [is_recovered: "yes"]
  }
  measure: resolved_calls {
    type: count
    filters: [is_resolved: "yes"]
    description: "Missed calls whose recovery window has closed (or that were recovered)."
  }
  measure: recovery_rate {
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${recovered_calls}, ${resolved_calls}) ;;
    description: "Recovered / resolved: calls still inside their window are left out, as in analytics.missed_call_recovery_daily."
  }
  measure: median_recovery_minutes {
    type: median
    sql: ${recovery_minutes} ;;
  }
}
