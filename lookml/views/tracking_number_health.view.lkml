# One row per business, date and tracking number: is each number still swapping, and is each
# pool big enough for its traffic?
view: tracking_number_health {
  sql_table_name: `@{analytics_dataset}.tracking_number_health` ;;

  dimension: business_id {
    label: "Business"
    description: "The business (client, brand) the row belongs to; every figure is within one."
    type: string
    sql: ${TABLE}.business_id ;;
  }
  dimension: number_day_key {
    primary_key: yes
    hidden: yes
    type: string
    sql: CONCAT(${TABLE}.business_id, '|', ${TABLE}.company_number, '|', CAST(${TABLE}.report_date AS STRING)) ;;
  }
  dimension_group: report {
    description: "Date of the calls in the business's reporting time zone."
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.report_date ;;
  }
  dimension: company_number {
    label: "Tracking number"
    type: string
    sql: ${TABLE}.company_number ;;
  }
  dimension: pool_name {
    label: "Pool"
    description: "The number's pool (number_pools setting); empty for a static tracking number."
    type: string
    sql: ${TABLE}.pool_name ;;
  }
  dimension: pool_size {
    type: number
    sql: ${TABLE}.pool_size ;;
  }
  dimension: has_sessionless_calls {
    description: "Call tracking recorded calls with no visitor session on the number that day."
    type: yesno
    sql: ${TABLE}.sessionless_calls > 0 ;;
  }

  measure: days_with_sessionless_calls {
    description: "Number-days with calls that had no visitor session."
    type: count
    filters: [has_sessionless_calls: "yes"]
  }
  measure: calls {
    description: "Inbound calls call tracking recorded on the number (spam left out)."
    type: sum
    sql: ${TABLE}.calltracking_calls ;;
  }
  measure: sessionless_calls {
    description: "Calls with no visitor session: a pool too small (visitors shown its default number), or a pool number printed as a static one."
    type: sum
    sql: ${TABLE}.sessionless_calls ;;
  }
  measure: sessionless_share {
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${sessionless_calls}, ${calls}) ;;
    description: "Sessionless calls / calls, as in analytics.tracking_number_health."
  }
  measure: telephony_only_calls {
    description: "Calls to the number only telephony saw: substitution or logging missing."
    type: sum
    sql: ${TABLE}.telephony_only_calls ;;
  }
  measure: calltracking_only_calls {
    description: "Calls on the number only call tracking saw: forwarding failing."
    type: sum
    sql: ${TABLE}.calltracking_only_calls ;;
  }
  measure: shared_calls {
    description: "Pool numbers: calls within the reservation time of another customer's call to the same number."
    type: sum
    sql: ${TABLE}.shared_calls ;;
  }
  measure: peak_pool_numbers_per_hour {
    description: "The most of the pool's numbers ringing within one local hour; at the pool's size every number was in use."
    type: max
    sql: ${TABLE}.pool_peak_numbers_per_hour ;;
  }
}
