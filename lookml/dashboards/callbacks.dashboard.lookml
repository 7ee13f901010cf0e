- dashboard: callbacks
  title: Callbacks
  description: "How fast missed customers are called back (callback SLA in business time), how
    many attempts it takes, who calls, and at which hours and weekdays calls go unanswered."
  layout: newspaper
  preferred_viewer: dashboards-next
  filters:
  - name: date_range
    title: Date
    type: field_filter
    default_value: 28 days
    explore: missed_call_followups
    field: missed_call_followups.missed_date
  - name: business
    title: Business
    type: field_filter
    default_value: ""
    allow_multiple_values: true
    explore: missed_call_followups
    field: missed_call_followups.business_id
  elements:
  - name: sla_funnel
    title: Missed first calls by SLA status
    type: looker_funnel
    explore: missed_call_followups
    model: ringback
    fields: [missed_call_followups.sla_status, missed_call_followups.missed_calls]
    sorts: [missed_call_followups.missed_calls desc]
    listen: {date_range: missed_call_followups.missed_date, business: missed_call_followups.business_id}
    row: 0
    col: 0
    width: 6
    height: 8
  - name: sla_met_rate
    title: SLA met rate
    type: single_value
    explore: missed_call_followups
    model: ringback
    fields: [missed_call_followups.sla_met_rate]
    listen: {date_range: missed_call_followups.missed_date, business: missed_call_followups.business_id}
    row: 0
    col: 6
    width: 3
    height: 3
  - name: never_called_back
    title: Never called back
    type: single_value
    explore: missed_call_followups
    model: ringback
    fields: [missed_call_followups.never_called_back]
    listen: {date_range: missed_call_followups.missed_date, business: missed_call_followups.business_id}
    row: 0
    col: 9
    width: 3
    height: 3
  - name: time_to_first_attempt
    title: Business minutes to the first attempt
    type: looker_column
    explore: missed_call_followups
    model: ringback
    fields: [missed_call_followups.first_attempt_bucket, missed_call_followups.missed_calls]
    sorts: [missed_call_followups.first_attempt_bucket]
    listen: {date_range: missed_call_followups.missed_date, business: missed_call_followups.business_id}
    row: 3
    col: 6
    width: 6
    height: 5
  - name: answer_rate_heatmap
    title: Inbound answer rate by hour and weekday
    type: looker_grid
    explore: call_handling_hourly
    model: ringback
    fields: [call_handling_hourly.call_hour, call_handling_hourly.weekday_name, call_handling_hourly.answer_rate]
    pivots: [call_handling_hourly.weekday_name]
    sorts: [call_handling_hourly.call_hour]
    listen: {date_range: call_handling_hourly.call_date, business: call_handling_hourly.business_id}
    row: 8
    col: 0
    width: 12
    height: 8
  - name: per_employee
    title: Calls per employee
    type: looker_grid
    explore: call_handling_hourly
    model: ringback
    fields: [call_handling_hourly.employee, call_handling_hourly.inbound_answered, call_handling_hourly.outbound_attempts, call_handling_hourly.outbound_answered, call_handling_hourly.talk_minutes]
    sorts: [call_handling_hourly.inbound_answered desc]
    listen: {date_range: call_handling_hourly.call_date, business: call_handling_hourly.business_id}
    row: 16
    col: 0
    width: 6
    height: 6
  - name: first_attempts_per_employee
    title: First callback attempts per employee
    type: looker_grid
    explore: missed_call_followups
    model: ringback
    fields: [missed_call_followups.attempt_employee, missed_call_followups.missed_calls, missed_call_followups.sla_met, missed_call_followups.median_first_attempt_business_minutes]
    filters: {missed_call_followups.never_attempted: "no"}
    sorts: [missed_call_followups.missed_calls desc]
    listen: {date_range: missed_call_followups.missed_date, business: missed_call_followups.business_id}
    row: 16
    col: 6
    width: 6
    height: 6
