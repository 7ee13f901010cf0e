# One row per CRM lead: how it was entered, the ringback lead it matched, and its deal.
view: crm_leads {
  sql_table_name: `@{analytics_dataset}.crm_leads` ;;

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
    sql: CONCAT(${TABLE}.business_id, '|', ${TABLE}.crm_lead_key) ;;
  }
  dimension: crm_lead_key {
    type: string
    sql: ${TABLE}.crm_lead_key ;;
  }
  dimension: lead_id {
    type: string
    sql: ${TABLE}.lead_id ;;
    description: "The ringback lead it matched (analytics.leads); NULL when none."
  }
  dimension_group: crm_created {
    type: time
    datatype: date
    timeframes: [date, week, month]
    convert_tz: no
    sql: ${TABLE}.crm_created_date ;;
  }
  dimension: created_via {
    type: string
    sql: ${TABLE}.created_via ;;
    description: "manual, form, import, integration or other."
  }
  dimension: match_status {
    type: string
    sql: ${TABLE}.match_status ;;
  }
  dimension: is_matched {
    type: yesno
    sql: ${TABLE}.is_matched ;;
  }
  dimension: crm_delay_minutes {
    type: number
    sql: ${TABLE}.crm_delay_minutes ;;
    description: "Minutes from the call to the CRM entry."
  }
  dimension: crm_delay_bucket {
    type: tier
    tiers: [0, 15, 60, 240, 1440]
    style: integer
    sql: ${crm_delay_minutes} ;;
  }
  dimension: deal_stage {
    type: string
    sql: ${TABLE}.deal_stage ;;
  }
  dimension: deal_currency {
    type: string
    sql: ${TABLE}.deal_currency ;;
  }
  dimension: deal_won {
    type: yesno
    sql: ${TABLE}.deal_won ;;
  }

  measure: crm_leads {
    type: count
  }
  measure: matched_leads {
    type: count
    filters: [is_matched: "yes"]
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
}
