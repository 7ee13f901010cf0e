# One row per incident: a cause of unmatched calls above the business's own baseline.
view: reconciliation_incidents {
  sql_table_name: `@{analytics_dataset}.reconciliation_incidents` ;;

  dimension: business_id {
    label: "Business"
    description: "The business (client, brand) the row belongs to; every figure is within one."
    type: string
    sql: ${TABLE}.business_id ;;
  }
  dimension: incident_key {
    primary_key: yes
    hidden: yes
    type: string
    sql: CONCAT(${TABLE}.business_id, '|', ${TABLE}.cause, '|', CAST(${TABLE}.started_date AS STRING)) ;;
  }
  dimension: cause {
    description: "untracked_number (substitution missing, a static number printed), missing_in_calltracking, spam_filtered, missing_in_telephony (forwarding failing) or sessionless_call (no visitor session: a pool too small, a pool number printed as static)."
    type: string
    sql: ${TABLE}.cause ;;
  }
  dimension_group: started {
    description: "The date the incident opened (the business's reporting time zone)."
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.started_date ;;
  }
  dimension_group: closed {
    description: "The first date the share was back; empty while the incident is open."
    type: time
    datatype: date
    timeframes: [date]
    convert_tz: no
    sql: ${TABLE}.closed_date ;;
  }
  dimension_group: last {
    description: "The incident's last date so far."
    type: time
    datatype: date
    timeframes: [date]
    convert_tz: no
    sql: ${TABLE}.last_date ;;
  }
  dimension: status {
    description: "open or closed."
    type: string
    sql: ${TABLE}.status ;;
  }
  dimension: is_open {
    type: yesno
    sql: ${TABLE}.status = 'open' ;;
  }
  dimension: incident_line {
    label: "Line"
    description: "The company number whose calls of the cause rose most on the first date: where to look."
    type: string
    sql: ${TABLE}.incident_line ;;
  }
  dimension: incident_days {
    type: number
    sql: ${TABLE}.incident_days ;;
  }
  dimension: peak_share {
    description: "The largest daily share of the cause during the incident."
    type: number
    value_format_name: percent_1
    sql: ${TABLE}.peak_share ;;
  }
  dimension: baseline_median {
    label: "Normal share"
    description: "The cause's median daily share over the baseline before the incident."
    type: number
    value_format_name: percent_1
    sql: ${TABLE}.baseline_median ;;
  }
  dimension: flagged_days {
    description: "Days of the incident the fixed-threshold mismatch flag also flagged."
    type: number
    sql: ${TABLE}.flagged_days ;;
  }

  measure: incidents {
    type: count
  }
  measure: open_incidents {
    type: count
    filters: [is_open: "Yes"]
  }
  measure: total_incident_days {
    label: "Incident days"
    type: sum
    sql: ${TABLE}.incident_days ;;
  }
  measure: cause_calls {
    description: "Calls of the cause over the incidents' dates."
    type: sum
    sql: ${TABLE}.cause_calls ;;
  }
}
