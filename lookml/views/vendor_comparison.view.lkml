# One row per business, date and vendor source: the vendor's own first calls and target calls
# against ringback's primary calls and leads, each difference split into causes (they add up).
view: vendor_comparison {
  sql_table_name: `@{analytics_dataset}.vendor_comparison` ;;

  dimension: row_key {
    primary_key: yes
    hidden: yes
    sql: CONCAT(${TABLE}.business_id, '|', CAST(${TABLE}.report_date AS STRING), '|', ${TABLE}.provider, '|', ${TABLE}.account_id) ;;
  }
  dimension: business_id {
    type: string
    sql: ${TABLE}.business_id ;;
  }
  dimension_group: report {
    type: time
    timeframes: [date, week, month]
    datatype: date
    convert_tz: no
    sql: ${TABLE}.report_date ;;
  }
  dimension: system {
    type: string
    sql: ${TABLE}.system ;;
  }
  dimension: provider {
    type: string
    sql: ${TABLE}.provider ;;
  }
  dimension: account_id {
    type: string
    sql: ${TABLE}.account_id ;;
  }
  measure: vendor_calls {
    type: sum
    description: "Inbound calls the vendor listed (soft-deleted ones left out)."
    sql: ${TABLE}.vendor_calls ;;
  }
  measure: telephony_only_calls {
    type: sum
    description: "For call tracking: the business's inbound calls only telephony saw, which the vendor could not count; 0 for a telephony vendor."
    sql: ${TABLE}.telephony_only_calls ;;
  }
  measure: vendor_first_calls {
    type: sum
    description: "Calls the vendor marks as the caller's first; NULL when the provider has no such flag."
    sql: ${TABLE}.vendor_first_calls ;;
  }
  measure: ringback_primary_calls {
    type: sum
    description: "Of the same calls, ringback's primary calls (docs/rules.md)."
    sql: ${TABLE}.ringback_primary_calls ;;
  }
  measure: first_call_difference {
    type: sum
    description: "ringback_primary_calls - vendor_first_calls; the first_calls_* causes add up to it."
    sql: ${TABLE}.first_call_difference ;;
  }
  measure: first_calls_uniqueness_window {
    type: sum
    description: "Calls where one side counts an earlier call from the number that the other does not (the vendor's window or history against ringback's), signed ringback - vendor."
    sql: ${TABLE}.first_calls_uniqueness_window ;;
  }
  measure: first_calls_seen_only_by_telephony {
    type: sum
    description: "Primary calls only telephony saw (untracked lines, call tracking outages): the vendor never had them."
    sql: ${TABLE}.first_calls_seen_only_by_telephony ;;
  }
  measure: first_calls_vendor_spam_filter {
    type: sum
    description: "Calls only telephony saw from numbers ringback's spam rule calls spam: the vendor filtered them as spam."
    sql: ${TABLE}.first_calls_vendor_spam_filter ;;
  }
  measure: first_calls_hidden_number {
    type: sum
    description: "Calls with a hidden number: the vendor may count them, ringback never does (signed)."
    sql: ${TABLE}.first_calls_hidden_number ;;
  }
  measure: vendor_target_calls {
    type: sum
    description: "Calls the vendor scores as target calls (Ringostat proper, CallRail good_lead); NULL when the provider has no such verdict."
    sql: ${TABLE}.vendor_target_calls ;;
  }
  measure: ringback_leads {
    type: sum
    description: "Of the same calls, the attributed calls of ringback's leads (marts.attributed_leads on attributed_date)."
    sql: ${TABLE}.ringback_leads ;;
  }
  measure: ringback_recovered_leads {
    type: sum
    description: "Of those, missed calls that ringback recovered (missed_call_retry or missed_call_callback)."
    sql: ${TABLE}.ringback_recovered_leads ;;
  }
  measure: lead_difference {
    type: sum
    description: "ringback_leads - vendor_target_calls; the leads_* causes add up to it."
    sql: ${TABLE}.lead_difference ;;
  }
  measure: leads_missed_call_recovered {
    type: sum
    description: "Missed calls ringback credits with the later conversation (+1 each), and the retries the vendor scored instead (-1 each)."
    sql: ${TABLE}.leads_missed_call_recovered ;;
  }
  measure: leads_threshold_difference {
    type: sum
    description: "Primary calls with talk time that one side's threshold counts and the other's does not."
    sql: ${TABLE}.leads_threshold_difference ;;
  }
  measure: leads_uniqueness_window {
    type: sum
    description: "Calls one side treats as a repeat (not primary, or the vendor's not-first) and the other scores."
    sql: ${TABLE}.leads_uniqueness_window ;;
  }
  measure: leads_seen_only_by_telephony {
    type: sum
    description: "Leads from calls only telephony saw."
    sql: ${TABLE}.leads_seen_only_by_telephony ;;
  }
  measure: leads_vendor_spam_filter {
    type: sum
    description: "Calls the vendor flagged or filtered as spam while ringback (or the vendor) scores them."
    sql: ${TABLE}.leads_vendor_spam_filter ;;
  }
  measure: leads_spam_rule {
    type: sum
    description: "Primary calls the vendor scores that the business's spam rule takes out of ringback's leads."
    sql: ${TABLE}.leads_spam_rule ;;
  }
  measure: leads_hidden_number {
    type: sum
    description: "Target calls with a hidden number: never a ringback lead."
    sql: ${TABLE}.leads_hidden_number ;;
  }
  measure: leads_other {
    type: sum
    description: "Disagreements no named cause explains (e.g. the vendor scores a call nobody talked on)."
    sql: ${TABLE}.leads_other ;;
  }
  measure: vendor_spam_calls {
    type: sum
    description: "Calls the vendor flags as spam."
    sql: ${TABLE}.vendor_spam_calls ;;
  }
  measure: vendor_filtered_spam_calls {
    type: sum
    description: "For call tracking: calls only telephony saw from numbers the spam rule calls spam (the vendor filtered them)."
    sql: ${TABLE}.vendor_filtered_spam_calls ;;
  }
  measure: ringback_spam_calls {
    type: sum
    description: "Calls of the comparison that the business's spam rule calls spam."
    sql: ${TABLE}.ringback_spam_calls ;;
  }
  measure: vendor_value {
    type: sum
    description: "The sum of the values the vendor's user gave the calls (CallRail value)."
    sql: ${TABLE}.vendor_value ;;
  }
  dimension: has_lead_gap {
    type: yesno
    description: "The vendor's target calls and ringback's leads differ on this date."
    sql: ${TABLE}.lead_difference != 0 ;;
  }
  measure: days_with_lead_gap {
    type: count
    filters: [has_lead_gap: "yes"]
  }
}
