-- name: ecm-stuck-trends
-- returns: every order that became stuck in [:since, :now), whatever its status today:
--          order_id, stuck_reason, corridor, payout_partner, stuck_since
--          (bucketing into windows happens in Python, so the SQL stays portable)
-- params: :since, :now (UTC timestamps, "YYYY-MM-DD HH:MM:SS")
-- role: manager (pattern-intelligence)
SELECT
    order_id,
    stuck_reason,
    corridor,
    payout_partner,
    stuck_since
FROM orders
WHERE stuck_since >= :since
  AND stuck_since < :now
ORDER BY stuck_since, order_id
