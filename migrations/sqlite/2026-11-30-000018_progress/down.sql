DROP TABLE progress_cards;
