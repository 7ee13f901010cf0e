# One row per lead (a conversation), credited to the call whose source it belongs to.
# Reads the analysts' view analytics.leads (the BI contract), not the mart.
view: attributed_leads {
  sql_table_name: `@{analytics_dataset}.leads` ;;

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
    sql: CONCAT(${TABLE}.business_id, '|', ${TABLE}.lead_id) ;;
  }

  dimension: lead_id {
    type: string
    sql: ${TABLE}.lead_id ;;
    description: "Stable id of the lead: the attributed_call_key."
  }
  dimension: lead_call_key {
    type: string
    sql: ${TABLE}.lead_call_key ;;
    description: "The call with the conversation."
  }
  dimension: attributed_call_key {
    type: string
    sql: ${TABLE}.attributed_call_key ;;
    description: "The call whose source is credited."
  }
  dimension: attribution_type {
    type: string
    sql: ${TABLE}.attribution_type ;;
    description: "primary_call, missed_call_retry or missed_call_callback."
  }
  dimension: is_recovered {
    type: yesno
    sql: ${TABLE}.is_recovered ;;
    description: "The lead came from a missed call that was recovered."
  }
  dimension: customer_hash {
    type: string
    sql: ${TABLE}.customer_hash ;;
    description: "Salted SHA-256 of the customer's number (never the number)."
  }
  dimension_group: lead {
    type: time
    timeframes: [raw, time, hour_of_day]
    sql: ${TABLE}.lead_at ;;
    description: "Start of the lead call (UTC)."
  }
  dimension_group: attributed {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.attributed_date ;;
    description: "Date of the attributed call in the reporting time zone."
  }
  dimension: traffic_source {
    type: string
    sql: COALESCE(${TABLE}.traffic_source, '(unknown)') ;;
    description: "Source of the attributed call."
  }
  dimension: traffic_medium {
    type: string
    sql: ${TABLE}.traffic_medium ;;
  }
  dimension: campaign {
    type: string
    sql: ${TABLE}.campaign ;;
  }
  dimension: keyword {
    type: string
    sql: ${TABLE}.keyword ;;
  }
  dimension: talk_seconds {
    type: number
    sql: ${TABLE}.talk_seconds ;;
  }
  dimension: recovery_minutes {
    type: number
    sql: ${TABLE}.recovery_minutes ;;
    description: "Minutes from the missed call to the lead call; 0 for primary calls."
  }
  dimension: recovery_lag_bucket {
    type: tier
    tiers: [5, 15, 60, 240, 720]
    style: integer
    sql: ${recovery_minutes} ;;
  }
  dimension: crm_lead_key {
    type: string
    sql: ${TABLE}.crm_lead_key ;;
    description: "The CRM lead matched to this lead; NULL when none (yet)."
  }
  dimension: is_in_crm {
    type: yesno
    sql: ${TABLE}.crm_lead_key IS NOT NULL ;;
    description: "A CRM lead matched this lead."
  }
  dimension: deal_currency {
    type: string
    sql: ${TABLE}.deal_currency ;;
  }
  dimension: deal_stage {
    type: string
    sql: ${TABLE}.deal_stage ;;
  }
  dimension: deal_won {
    type: yesno
    sql: COALESCE(${TABLE}.deal_won, FALSE) ;;
    description: "The matched CRM lead's deal was won."
  }

  measure: leads {
    type: count
    drill_fields: [attributed_date, traffic_source, campaign, attribution_type]
  }
  measure: leads_in_crm {
    type: count
    filters: [is_in_crm: "yes"]
  }
  measure: deals_won {
    type: count
    filters: [deal_won: "yes"]
  }
  measure: won_revenue {
    type: sum
    sql: ${TABLE}.deal_amount ;;
    filters: [deal_won: "yes"]
    description: "Amount of the won deals; group by deal_currency when several currencies."
  }
  measure: recovered_leads {
    type: count
    filters: [is_recovered: "yes"]
  }
  measure: recovered_share {
    type: number
    value_format_name: percent_1
    sql: SAFE_DIVIDE(${recovered_leads}, ${leads}) ;;
    description: "Share of leads that a missed call would have lost."
  }
  measure: customers {
    type: count_distinct
    sql: ${customer_hash} ;;
  }
}
