# One row per business with a CRM and report date: ringback's leads against the CRM's leads,
# matched, CRM-only by how they were entered, and leads that never reached the CRM.
view: crm_reconciliation {
  sql_table_name: `@{analytics_dataset}.crm_reconciliation` ;;

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
  dimension: status {
    type: string
    sql: ${TABLE}.status ;;
    description: "mismatch, awaiting (leads still inside the matching window) or ok."
  }
  dimension: is_mismatch {
    type: yesno
    sql: ${TABLE}.status = 'mismatch' ;;
  }
  dimension: mismatch_reason {
    type: string
    sql: ${TABLE}.mismatch_reason ;;
  }
  dimension: unmatched_ratio {
    type: number
    value_format_name: percent_1
    sql: ${TABLE}.unmatched_ratio ;;
  }

  measure: ringback_leads {
    type: sum
    sql: ${TABLE}.ringback_leads ;;
  }
  measure: crm_leads {
    type: sum
    sql: ${TABLE}.crm_leads ;;
  }
  measure: matched {
    type: sum
    sql: ${TABLE}.matched ;;
  }
  measure: crm_only_manual {
    type: sum
    sql: ${TABLE}.crm_only_manual ;;
    description: "CRM leads entered by hand that no conversation explains."
  }
  measure: crm_only_other {
    type: sum
    sql: ${TABLE}.crm_only_other ;;
  }
  measure: lead_not_in_crm {
    type: sum
    sql: ${TABLE}.lead_not_in_crm ;;
    description: "Conversations ringback counted that never reached the CRM in the window."
  }
  measure: lead_awaiting_crm {
    type: sum
    sql: ${TABLE}.lead_awaiting_crm ;;
  }
  measure: deals_won {
    type: sum
    sql: ${TABLE}.deals_won ;;
  }
  measure: flagged_days {
    type: count
    filters: [is_mismatch: "yes"]
  }
}
