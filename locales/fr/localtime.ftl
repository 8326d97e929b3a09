# L'heure de chacun (`heure: locale`) : début, fenêtre et horaires dans le fuseau de chaque destinataire.

localtime-field-not-a-mode = `{ $value }` n'est ni locale ni campagne
localtime-label = Heure :
localtime-local = locale (le fuseau horaire de chacun)
localtime-campaign = le fuseau de la campagne
localtime-form-label = L'heure que suivent le début, la fenêtre et les horaires
localtime-fallbacks = { $count ->
    [one] Le fuseau horaire de { $count } personne n'était pas connu : celui de la campagne ({ $zone }) a servi.
   *[other] Le fuseau horaire de { $count } personnes n'était pas connu : celui de la campagne ({ $zone }) a servi.
}
localtime-planned-from = Planifiée dès le { $when } ({ $zone }), quand la journée des premiers destinataires peut commencer : elle ne peut plus être modifiée ensuite.
localtime-report-fallbacks = Fuseau de la campagne utilisé (fuseau inconnu)
admin-help-localtime = **heure: locale** dans une campagne applique son début, sa fenêtre et ses horaires dans le fuseau horaire de chacun (celui que donne son client Teams, sinon celui de sa boîte aux lettres via Microsoft Graph, sinon celui de la campagne) ; **heure: campagne** revient au fuseau de la campagne.
