-- name: ecm-order-detail-v2
-- returns: one order (zero or one row): ids, corridor, both legs' amounts and currencies,
--          payout partner, payment method, status, stuck reason, stuck_since, cleared_at,
--          created_at and the pseudonymous customer reference (never customer PII)
-- params: :order_id (validated as two letters + 8 alphanumerics before it gets here)
-- role: field (order-details, resolve-ticket); managers may also run it
SELECT
    order_id,
    corridor,
    send_amount AS amount,
    send_currency AS currency,
    receive_amount,
    receive_currency,
    payout_partner,
    payment_method,
    status,
    stuck_reason,
    stuck_since,
    cleared_at,
    created_at,
    customer_ref
FROM orders
WHERE order_id = :order_id
