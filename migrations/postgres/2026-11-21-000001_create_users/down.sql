DROP TABLE inbound_activities;
DROP TABLE users;
