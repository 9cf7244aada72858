-- name: ecm-orders-live-status
-- returns: live status of the listed orders, in one round trip: order_id, status,
--          stuck_reason, stuck_since, amount, currency
-- params: :order_ids, a comma-separated list of validated order IDs (e.g. "AE136ABC00,GB12345678").
--         The list is matched with LIKE on ",id," so it stays one bound parameter on every engine.
-- role: field (my-tickets): the caller passes only the IDs of their own tickets
SELECT
    order_id,
    status,
    stuck_reason,
    stuck_since,
    send_amount AS amount,
    send_currency AS currency
FROM orders
WHERE ',' || :order_ids || ',' LIKE '%,' || order_id || ',%'
ORDER BY order_id
