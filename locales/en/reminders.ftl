# Broadcast reminders (`broadcast remind`, `remind: 24h`), as admins read them.

remind-queued = Reminder { $round } of broadcast **#{ $number }** is on its way to { $count ->
    [one] 1 person who has not read it yet
   *[other] { $count } people who have not read it yet
    }.
remind-queued-ack = Reminder { $round } of broadcast **#{ $number }** is on its way to { $count ->
    [one] 1 person who has not acknowledged it yet
   *[other] { $count } people who have not acknowledged it yet
    }.
remind-nobody-read = Everyone who got broadcast **#{ $number }** has read it: nobody was reminded.
remind-nobody-acked = Everyone who got broadcast **#{ $number }** has acknowledged it: nobody was reminded.
remind-recalled = Broadcast **#{ $number }** was recalled: no reminder is sent.
remind-past-retention = Broadcast **#{ $number }** is older than the retention period: who read it is no longer recorded, so no reminder can be sent.
remind-info-rounds = Reminders: { $rounds ->
    [one] 1 round
   *[other] { $rounds } rounds
    }, { $delivered } delivered ({ $list }).
remind-info-round = #{ $round } on { $at }, { $queued } queued
remind-info-round-auto = #{ $round } on { $at } (automatic), { $queued } queued
remind-info-read-after = Read after their first reminder: { $people }.
remind-info-acked-after = Acknowledged after their first reminder: { $people }.
