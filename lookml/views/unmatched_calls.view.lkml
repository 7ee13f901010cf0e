# One row per call only one system recorded, with the reason.
view: unmatched_calls {
  sql_table_name: `@{analytics_dataset}.unmatched_calls` ;;

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
  dimension: system {
    type: string
    sql: ${TABLE}.system ;;
  }
  dimension_group: report {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.report_date ;;
  }
  dimension: company_number {
    type: string
    sql: ${TABLE}.company_number ;;
    description: "The company line dialled (a business number, not a customer's)."
  }
  dimension: customer_hash {
    type: string
    sql: ${TABLE}.customer_hash ;;
  }
  dimension_group: started {
    type: time
    timeframes: [raw, time, hour_of_day]
    sql: ${TABLE}.started_at ;;
  }
  dimension: reason {
    type: string
    sql: ${TABLE}.reason ;;
  }

  measure: calls {
    type: count
  }
}
