# ringback: attributed leads, missed-call recovery and call-count reconciliation.
connection: "ringback_bigquery"

include: "/views/*.view.lkml"
include: "/dashboards/*.dashboard.lookml"

datagroup: ringback_daily {
  sql_trigger: SELECT MAX(report_date) FROM `@{analytics_dataset}.daily_reconciliation` ;;
  max_cache_age: "24 hours"
}
persist_with: ringback_daily

# Leads, with the day's reconciliation beside them (same business and reporting date).
explore: attributed_leads {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: attributed_leads.business_id
    user_attribute: ringback_business
  }
  label: "Leads"
  description: "Leads credited to the ad source of the call that started them."
  join: call_reconciliation {
    type: left_outer
    relationship: many_to_one
    sql_on: ${attributed_leads.business_id} = ${call_reconciliation.business_id}
      AND ${attributed_leads.attributed_date} = ${call_reconciliation.report_date} ;;
  }
  join: missed_calls {
    type: left_outer
    relationship: one_to_one
    sql_on: ${attributed_leads.business_id} = ${missed_calls.business_id}
      AND ${attributed_leads.attributed_call_key} = ${missed_calls.call_key} ;;
  }
}

explore: missed_calls {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: missed_calls.business_id
    user_attribute: ringback_business
  }
  label: "Missed calls"
  description: "Missed first calls and whether a retry or a callback recovered them."
}

explore: call_reconciliation {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: call_reconciliation.business_id
    user_attribute: ringback_business
  }
  label: "Reconciliation"
  description: "Daily inbound counts by system; flagged days and their reason."
  join: unmatched_calls {
    type: left_outer
    relationship: one_to_many
    sql_on: ${call_reconciliation.business_id} = ${unmatched_calls.business_id}
      AND ${call_reconciliation.report_date} = ${unmatched_calls.report_date} ;;
  }
}

explore: reconciliation_incidents {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: reconciliation_incidents.business_id
    user_attribute: ringback_business
  }
  label: "Incidents"
  description: "Did something break, where, since when: causes of unmatched calls above each business's own baseline."
}

explore: tracking_number_health {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: tracking_number_health.business_id
    user_attribute: ringback_business
  }
  label: "Tracking numbers and pools"
  description: "Is each number still swapping and each pool big enough: calls with no visitor session, calls only one system saw, pool numbers in use per hour against the pool's size."
}

explore: missed_call_followups {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: missed_call_followups.business_id
    user_attribute: ringback_business
  }
  label: "Callbacks"
  description: "How fast the team calls missed customers back: attempts, the callback SLA, who called."
  join: missed_calls {
    type: left_outer
    relationship: one_to_one
    sql_on: ${missed_call_followups.business_id} = ${missed_calls.business_id}
      AND ${missed_call_followups.call_key} = ${missed_calls.call_key} ;;
  }
}

explore: call_handling_hourly {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: call_handling_hourly.business_id
    user_attribute: ringback_business
  }
  label: "Call handling"
  description: "Calls answered and missed by local hour, weekday and employee."
}

explore: crm_reconciliation {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: crm_reconciliation.business_id
    user_attribute: ringback_business
  }
  label: "CRM reconciliation"
  description: "ringback's leads against the CRM's per day: manual entries, leads lost to the CRM."
}

explore: crm_leads {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: crm_leads.business_id
    user_attribute: ringback_business
  }
  label: "CRM leads"
  description: "Each CRM lead, how it was entered, the call lead it matched and its deal's revenue."
  join: attributed_leads {
    type: left_outer
    relationship: one_to_one
    sql_on: ${crm_leads.business_id} = ${attributed_leads.business_id}
      AND ${crm_leads.lead_id} = ${attributed_leads.lead_id} ;;
  }
}

explore: vendor_comparison {
  # A client's Looker user sees only their business: set the user attribute
  # ringback_business to its business_id (or to "%" for the agency's own staff).
  access_filter: {
    field: vendor_comparison.business_id
    user_attribute: ringback_business
  }
  label: "Vendor comparison"
  description: "Why the call-tracking vendor's first and target calls differ from ringback's primary calls and leads, by cause."
}
