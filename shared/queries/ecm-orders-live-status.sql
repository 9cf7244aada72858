-- name: ecm-orders-live-status
-- returns: live status of the listed orders, in one round trip: order_id, status,
--          stuck_reason, stuck_since, amount, currency
-- params: :order_ids, a list of validated order IDs (e.g. ["AE136ABC00", "GB12345678"]); the
--         warehouse binds one parameter per ID, so the primary key answers on every engine.
-- role: field (my-tickets): the caller passes only the IDs of their own tickets
SELECT
    order_id,
    status,
    stuck_reason,
    stuck_since,
    send_amount AS amount,
    send_currency AS currency
FROM orders
WHERE order_id IN (:order_ids)
ORDER BY order_id
