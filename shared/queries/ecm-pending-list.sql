-- name: ecm-pending-list
-- returns: every order currently stuck, oldest first: order_id, corridor, amount, currency,
--          payout_partner, payment_method, stuck_reason, stuck_since, created_at
-- params: none (hours stuck are computed in Python from stuck_since and "now")
-- role: manager only (triage). Field skills must never run it (DEC-011).
SELECT
    order_id,
    corridor,
    send_amount AS amount,
    send_currency AS currency,
    payout_partner,
    payment_method,
    stuck_reason,
    stuck_since,
    created_at
FROM orders
WHERE status = 'STUCK'
ORDER BY stuck_since, order_id
