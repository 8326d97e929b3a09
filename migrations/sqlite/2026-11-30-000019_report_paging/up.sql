-- The report page and its streamed CSV read a message's send deliveries in delivery order, a
-- page or a chunk at a time (`message_id = ? AND id > ? ORDER BY id LIMIT n`): without this
-- index every page would sort all of a large campaign's deliveries.
CREATE INDEX deliveries_message_order ON deliveries (message_id, id);
