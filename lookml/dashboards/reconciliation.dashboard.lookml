- dashboard: reconciliation
  title: Daily call reconciliation
  description: "Inbound calls in call tracking and in telephony per day, matched and unmatched;
    flagged days with the largest cause."
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: date_range
    title: Report date
    type: field_filter
    default_value: 28 days
    explore: call_reconciliation
    field: call_reconciliation.report_date
  - name: business
    title: Business
    type: field_filter
    default_value: ""
    allow_multiple_values: true
    explore: call_reconciliation
    field: call_reconciliation.business_id
  elements:
  - name: daily_counts
    title: Calls per day by system
    type: looker_line
    explore: call_reconciliation
    model: ringback
    fields: [call_reconciliation.report_date, call_reconciliation.calltracking_calls,
      call_reconciliation.telephony_calls, call_reconciliation.matched_calls]
    sorts: [call_reconciliation.report_date]
    listen: {date_range: call_reconciliation.report_date, business: call_reconciliation.business_id}
    row: 0
    col: 0
    width: 12
    height: 7
  - name: flagged_days
    title: Flagged days and why
    type: looker_grid
    explore: call_reconciliation
    model: ringback
    fields: [call_reconciliation.report_date, call_reconciliation.unmatched_ratio,
      call_reconciliation.mismatch_reason, call_reconciliation.only_in_calltracking,
      call_reconciliation.only_in_telephony_untracked, call_reconciliation.only_in_telephony_tracked]
    filters: {call_reconciliation.is_mismatch: "Yes"}
    sorts: [call_reconciliation.report_date desc]
    listen: {date_range: call_reconciliation.report_date, business: call_reconciliation.business_id}
    row: 7
    col: 0
    width: 12
    height: 7
  - name: unmatched_by_reason
    title: Unmatched calls by reason
    type: looker_bar
    explore: call_reconciliation
    model: ringback
    fields: [unmatched_calls.reason, unmatched_calls.system, unmatched_calls.calls]
    pivots: [unmatched_calls.system]
    listen: {date_range: call_reconciliation.report_date, business: call_reconciliation.business_id}
    row: 14
    col: 0
    width: 12
    height: 6
  - name: incidents
    title: Incidents against the business's own baseline
    note_text: "Did something break, where, since when? A cause of unmatched calls above its usual share; the flag above is the fixed-threshold rule."
    type: looker_grid
    explore: reconciliation_incidents
    model: ringback
    fields: [reconciliation_incidents.started_date, reconciliation_incidents.cause,
      reconciliation_incidents.status, reconciliation_incidents.closed_date,
      reconciliation_incidents.incident_days, reconciliation_incidents.peak_share,
      reconciliation_incidents.baseline_median, reconciliation_incidents.incident_line,
      reconciliation_incidents.flagged_days]
    sorts: [reconciliation_incidents.started_date desc]
    listen: {date_range: reconciliation_incidents.last_date, business: reconciliation_incidents.business_id}
    row: 20
    col: 0
    width: 12
    height: 7
