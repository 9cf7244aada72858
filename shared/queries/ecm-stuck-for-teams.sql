-- name: ecm-stuck-for-teams
-- returns: a page of the orders stuck for one of the given reasons, oldest first, after the
--          given place: order_id, status, stuck_reason, stuck_since, amount, currency
-- params: :reason_codes, the stuck reasons of the caller's teams (from stuck-reasons.yaml; the
--         warehouse binds one parameter per code); :after_since and :after_id, the last row of
--         the previous page ("1970-01-01 00:00:00" and "" for the first page). At most 200 rows;
--         the status and stuck_since indexes answer it, however many orders have cleared.
-- role: field (takeable-orders): the candidates of "Unassigned you can take", never scored
SELECT
    order_id,
    status,
    stuck_reason,
    stuck_since,
    send_amount AS amount,
    send_currency AS currency
FROM orders
WHERE status = 'STUCK'
  AND stuck_reason IN (:reason_codes)
  AND (stuck_since > :after_since OR (stuck_since = :after_since AND order_id > :after_id))
ORDER BY stuck_since, order_id
LIMIT 200
