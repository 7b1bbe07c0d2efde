-- A device's back-in-stock writes in the last hour are counted before each new one (its write budget):
-- found by device, not by scanning every request.
CREATE INDEX back_in_stock_by_device ON notify.back_in_stock_requests (device_id, requested_at);
