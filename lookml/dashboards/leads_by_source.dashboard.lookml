- dashboard: leads_by_source
  title: Leads by source and campaign
  description: "Leads credited to the source of the call that started them, and the share that
    only re-attribution of missed calls recovered."
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: date_range
    title: Attributed date
    type: field_filter
    default_value: 28 days
    explore: attributed_leads
    field: attributed_leads.attributed_date
  - name: business
    title: Business
    type: field_filter
    default_value: ""
    allow_multiple_values: true
    explore: attributed_leads
    field: attributed_leads.business_id
  elements:
  - name: total_leads
    title: Leads
    type: single_value
    explore: attributed_leads
    model: ringback
    fields: [attributed_leads.leads]
    listen: {date_range: attributed_leads.attributed_date, business: attributed_leads.business_id}
    row: 0
    col: 0
    width: 6
    height: 3
  - name: recovered_share
    title: Recovered share
    type: single_value
    explore: attributed_leads
    model: ringback
    fields: [attributed_leads.recovered_share]
    listen: {date_range: attributed_leads.attributed_date, business: attributed_leads.business_id}
    row: 0
    col: 6
    width: 6
    height: 3
  - name: leads_by_source
    title: Leads by source and attribution type
    type: looker_bar
    explore: attributed_leads
    model: ringback
    fields: [attributed_leads.traffic_source, attributed_leads.attribution_type, attributed_leads.leads]
    pivots: [attributed_leads.attribution_type]
    sorts: [attributed_leads.leads desc 0]
    stacking: normal
    listen: {date_range: attributed_leads.attributed_date, business: attributed_leads.business_id}
    row: 3
    col: 0
    width: 12
    height: 8
  - name: leads_by_campaign
    title: Campaigns
    type: looker_grid
    explore: attributed_leads
    model: ringback
    fields: [attributed_leads.traffic_source, attributed_leads.campaign, attributed_leads.leads,
      attributed_leads.recovered_leads, attributed_leads.recovered_share]
    sorts: [attributed_leads.leads desc]
    limit: 50
    listen: {date_range: attributed_leads.attributed_date, business: attributed_leads.business_id}
    row: 11
    col: 0
    width: 12
    height: 8
