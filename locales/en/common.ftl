# Words and fragments shared by several features.

members = { $count ->
    [one] { $count } member
   *[other] { $count } members
}
