DROP TABLE relay_messages;
DROP TABLE relay_threads;
DROP TABLE broadcast_reads;
DROP TABLE broadcast_not_installed;
DROP TABLE broadcast_messages;
DROP TABLE broadcasts;
