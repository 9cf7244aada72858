-- name: ecm-dashboard-counts
-- returns: stuck orders grouped by reason and corridor: stuck_reason, corridor,
--          stuck_orders, oldest_stuck_since
-- params: none
-- role: manager (run-ecm)
SELECT
    stuck_reason,
    corridor,
    COUNT(*) AS stuck_orders,
    MIN(stuck_since) AS oldest_stuck_since
FROM orders
WHERE status = 'STUCK'
GROUP BY stuck_reason, corridor
ORDER BY stuck_orders DESC, stuck_reason, corridor
