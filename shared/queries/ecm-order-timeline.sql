-- name: ecm-order-timeline
-- returns: the events of one order in time order: event_at, system, event_type, detail
-- params: :order_id
-- role: field (order-details)
SELECT
    event_at,
    "system",  -- SYSTEM is reserved in Redshift, so it is quoted (the result key stays system)
    event_type,
    detail
FROM order_events
WHERE order_id = :order_id
ORDER BY event_at, event_type
