# Calls handled per business, local date, hour and employee (analytics.call_handling_hourly):
# answer rates by hour x weekday and per employee.
view: call_handling_hourly {
  sql_table_name: `@{analytics_dataset}.call_handling_hourly` ;;

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
    sql: CONCAT(${TABLE}.business_id, '|', CAST(${TABLE}.call_date AS STRING), '|',
      CAST(${TABLE}.call_hour AS STRING), '|', COALESCE(${TABLE}.employee_id, ''), '|',
      COALESCE(${TABLE}.employee_name, '')) ;;
  }
  dimension_group: call {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.call_date ;;
  }
  dimension: call_hour {
    label: "Hour (local)"
    type: number
    sql: ${TABLE}.call_hour ;;
  }
  dimension: iso_weekday {
    hidden: yes
    type: number
    sql: ${TABLE}.iso_weekday ;;
  }
  dimension: weekday_name {
    label: "Weekday"
    type: string
    sql: ${TABLE}.weekday_name ;;
    order_by_field: iso_weekday
  }
  dimension: employee {
    type: string
    sql: COALESCE(${TABLE}.employee_name, ${TABLE}.employee_id, '(nobody / unknown)') ;;
  }

  measure: inbound_calls {
    type: sum
    sql: ${TABLE}.inbound_calls ;;
  }
  measure: inbound_answered {
    type: sum
    sql: ${TABLE}.inbound_answered ;;
  }
  measure: inbound_missed {
    type: sum
    sql: ${TABLE}.inbound_missed ;;
  }
  measure: outbound_attempts {
    type: sum
    sql: ${TABLE}.outbound_attempts ;;
  }
  measure: outbound_answered {
    type: sum
    sql: ${TABLE}.outbound_answered ;;
  }
  measure: talk_minutes {
    type: sum
    value_format_name: decimal_0
    sql: ${TABLE}.talk_seconds / 60.0 ;;
  }
  measure: answer_rate {
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${inbound_answered}, ${inbound_calls}) ;;
    description: "Inbound calls answered / inbound calls."
  }
}
