# One row per reporting date: inbound calls by system, matched, unmatched and why.
view: call_reconciliation {
  sql_table_name: `@{analytics_dataset}.daily_reconciliation` ;;

  dimension: business_id {
    label: "Business"
    description: "The business (client, brand) the row belongs to; every figure is within one."
    type: string
    sql: ${TABLE}.business_id ;;
  }

  dimension_group: report {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.report_date ;;
  }
  dimension: report_date_key {
    primary_key: yes
    hidden: yes
    type: string
    sql: CONCAT(${TABLE}.business_id, '|', CAST(${TABLE}.report_date AS STRING)) ;;
  }
  dimension: is_mismatch {
    type: yesno
    sql: ${TABLE}.status = 'mismatch' ;;
  }
  dimension: mismatch_reason {
    type: string
    sql: ${TABLE}.mismatch_reason ;;
  }
  dimension: status {
    description: "ok, mismatch, or incomplete while a call source has not loaded the date."
    type: string
    sql: ${TABLE}.status ;;
  }
  dimension: missing_sources {
    description: "The call sources the date was built without (not judged until they load it)."
    type: string
    sql: ${TABLE}.missing_sources ;;
  }
  dimension: unmatched_ratio {
    type: number
    value_format_name: percent_1
    sql: ${TABLE}.unmatched_ratio ;;
  }

  measure: calltracking_calls {
    type: sum
    sql: ${TABLE}.calltracking_calls ;;
  }
  measure: telephony_calls {
    type: sum
    sql: ${TABLE}.telephony_calls ;;
  }
  measure: matched_calls {
    type: sum
    sql: ${TABLE}.matched_calls ;;
  }
  measure: only_in_calltracking {
    type: sum
    sql: ${TABLE}.only_in_calltracking ;;
  }
  measure: only_in_telephony_untracked {
    type: sum
    sql: ${TABLE}.only_in_telephony_untracked ;;
  }
  measure: only_in_telephony_tracked {
    type: sum
    sql: ${TABLE}.only_in_telephony_tracked ;;
  }
  measure: only_in_telephony_spam {
    type: sum
    description: "Telephony-only calls to a tracked line from a number the spam rule calls spam (spam_filtered)."
    sql: ${TABLE}.only_in_telephony_spam ;;
  }
  measure: unmatched_calls {
    type: sum
    sql: ${TABLE}.unmatched_calls ;;
  }
  measure: flagged_days {
    type: count
    filters: [is_mismatch: "yes"]
  }
}
