DROP INDEX deliveries_message_order;
