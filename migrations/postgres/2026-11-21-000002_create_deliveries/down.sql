DROP TABLE deliveries;
DROP TABLE outbound_messages;
