-- name: ecm-recently-cleared
-- returns: orders that left the stuck state since :since: order_id, stuck_reason, corridor,
--          status (COMPLETED or REFUNDED), stuck_since, cleared_at
-- params: :since (UTC timestamp, "YYYY-MM-DD HH:MM:SS")
-- role: manager (run-ecm, ecm-daily-flow)
SELECT
    order_id,
    stuck_reason,
    corridor,
    status,
    stuck_since,
    cleared_at
FROM orders
WHERE cleared_at >= :since
  AND status IN ('COMPLETED', 'REFUNDED')
ORDER BY cleared_at, order_id
