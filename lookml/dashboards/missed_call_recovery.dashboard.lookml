- dashboard: missed_call_recovery
  title: Missed-call recovery
  description: "What became of missed first calls: recovered by the customer's retry, by a
    callback, not recovered, or still pending; and how long recovery took."
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: date_range
    title: Missed date
    type: field_filter
    default_value: 28 days
    explore: missed_calls
    field: missed_calls.missed_date
  - name: business
    title: Business
    type: field_filter
    default_value: ""
    allow_multiple_values: true
    explore: missed_calls
    field: missed_calls.business_id
  elements:
  - name: recovery_funnel
    title: Missed first calls by outcome
    type: looker_funnel
    explore: missed_calls
    model: ringback
    fields: [missed_calls.outcome, missed_calls.missed_calls]
    sorts: [missed_calls.missed_calls desc]
    listen: {date_range: missed_calls.missed_date, business: missed_calls.business_id}
    row: 0
    col: 0
    width: 6
    height: 8
  - name: recovery_rate
    title: Recovery rate
    type: single_value
    explore: missed_calls
    model: ringback
    fields: [missed_calls.recovery_rate]
    listen: {date_range: missed_calls.missed_date, business: missed_calls.business_id}
    row: 0
    col: 6
    width: 6
    height: 3
  - name: recovery_lag
    title: Minutes to recovery
    type: looker_column
    explore: missed_calls
    model: ringback
    fields: [missed_calls.recovery_lag_bucket, missed_calls.outcome, missed_calls.missed_calls]
    pivots: [missed_calls.outcome]
    filters: {missed_calls.outcome: "recovered_retry,recovered_callback"}
    sorts: [missed_calls.recovery_lag_bucket]
    listen: {date_range: missed_calls.missed_date, business: missed_calls.business_id}
    row: 3
    col: 6
    width: 6
    height: 5
