DROP INDEX broadcast_holds_due;
DROP TABLE broadcast_holds;
