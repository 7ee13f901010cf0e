# One row per missed primary call and its follow-up: the first callback attempt, time to it in
# clock and business minutes, attempts, and the callback SLA (the analysts' view
# analytics.callback_followups, which defines the SLA rate's two parts).
view: missed_call_followups {
  sql_table_name: `@{analytics_dataset}.callback_followups` ;;

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
  dimension_group: missed {
    type: time
    datatype: date
    timeframes: [date, week, month, day_of_week]
    convert_tz: no
    sql: ${TABLE}.missed_date ;;
  }
  dimension: sla_status {
    label: "SLA status"
    type: string
    sql: ${TABLE}.sla_status ;;
    description: "met, missed, not_needed (the customer got through first, in time), pending, or abandoned_short (a short hang-up: no callback due)."
  }
  dimension: sla_is_met {
    type: yesno
    sql: ${TABLE}.sla_is_met ;;
  }
  dimension: sla_is_due {
    type: yesno
    sql: ${TABLE}.sla_is_due ;;
    description: "Met or missed: the SLA applies and is decided."
  }
  dimension: never_attempted {
    type: yesno
    sql: ${TABLE}.never_attempted ;;
  }
  dimension: customer_called_first {
    type: yesno
    sql: ${TABLE}.customer_called_first ;;
  }
  dimension: attempts {
    type: number
    sql: ${TABLE}.attempts ;;
  }
  dimension: first_attempt_minutes {
    type: number
    sql: ${TABLE}.first_attempt_minutes ;;
  }
  dimension: first_attempt_business_minutes {
    type: number
    sql: ${TABLE}.first_attempt_business_minutes ;;
    description: "Minutes to the first attempt inside opening hours only."
  }
  dimension: first_attempt_bucket {
    label: "Business minutes to first attempt"
    type: tier
    tiers: [5, 15, 30, 60, 240]
    style: integer
    sql: ${first_attempt_business_minutes} ;;
  }
  dimension: attempt_employee {
    type: string
    sql: COALESCE(${TABLE}.attempt_employee_name, ${TABLE}.attempt_employee_id, '(unknown)') ;;
  }
  dimension: outcome {
    type: string
    sql: ${TABLE}.outcome ;;
  }

  dimension: is_abandoned_short {
    type: yesno
    sql: ${TABLE}.is_abandoned_short ;;
    description: "A short hang-up (the business's short_abandon_seconds): no callback due."
  }
  measure: missed_calls {
    type: count
    filters: [is_abandoned_short: "no"]
    description: "Missed first calls, short hang-ups left out (as in analytics.callback_sla_daily)."
  }
  measure: sla_met {
    type: count
    filters: [sla_is_met: "yes"]
  }
  measure: sla_due {
    type: count
    filters: [sla_is_due: "yes"]
  }
  measure: never_called_back {
    type: count
    filters: [never_attempted: "yes", is_abandoned_short: "no"]
  }
  measure: sla_met_rate {
    label: "SLA met rate"
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${sla_met}, ${sla_due}) ;;
    description: "Met / (met + missed), as in analytics.callback_sla_daily."
  }
  measure: median_first_attempt_business_minutes {
    type: median
    sql: ${first_attempt_business_minutes} ;;
  }
  measure: average_attempts {
    type: average
    sql: ${attempts} ;;
  }
}
