- dashboard: crm
  title: CRM and revenue
  description: "ringback's leads against the CRM's: leads entered by hand that no call explains,
    conversations that never reached the CRM, and the won deals' revenue per ad source."
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: date_range
    title: Report date
    type: field_filter
    default_value: 28 days
    explore: crm_reconciliation
    field: crm_reconciliation.report_date
  - name: business
    title: Business
    type: field_filter
    default_value: ""
    allow_multiple_values: true
    explore: crm_reconciliation
    field: crm_reconciliation.business_id
  elements:
  - name: daily_leads
    title: Leads per day, ringback and CRM
    type: looker_column
    explore: crm_reconciliation
    model: ringback
    fields: [crm_reconciliation.report_date, crm_reconciliation.matched,
      crm_reconciliation.lead_not_in_crm, crm_reconciliation.lead_awaiting_crm,
      crm_reconciliation.crm_only_manual, crm_reconciliation.crm_only_other]
    sorts: [crm_reconciliation.report_date]
    listen: {date_range: crm_reconciliation.report_date, business: crm_reconciliation.business_id}
    row: 0
    col: 0
    width: 12
    height: 7
  - name: flagged_days
    title: Flagged days and why
    type: looker_grid
    explore: crm_reconciliation
    model: ringback
    fields: [crm_reconciliation.report_date, crm_reconciliation.unmatched_ratio,
      crm_reconciliation.mismatch_reason, crm_reconciliation.crm_only_manual,
      crm_reconciliation.lead_not_in_crm, crm_reconciliation.crm_only_other]
    filters: {crm_reconciliation.is_mismatch: "Yes"}
    sorts: [crm_reconciliation.report_date desc]
    listen: {date_range: crm_reconciliation.report_date, business: crm_reconciliation.business_id}
    row: 7
    col: 0
    width: 12
    height: 6
  - name: revenue_by_source
    title: Won revenue by ad source and campaign
    type: looker_grid
    explore: attributed_leads
    model: ringback
    fields: [attributed_leads.traffic_source, attributed_leads.campaign,
      attributed_leads.deal_currency, attributed_leads.leads, attributed_leads.leads_in_crm,
      attributed_leads.deals_won, attributed_leads.won_revenue]
    sorts: [attributed_leads.won_revenue desc]
    listen: {date_range: attributed_leads.attributed_date, business: attributed_leads.business_id}
    row: 13
    col: 0
    width: 12
    height: 7
