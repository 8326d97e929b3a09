# Campagnes récurrentes (`répéter:`) : chaque occurrence de la récurrence est une exécution à part.

repeat-empty = attend une expression cron comme `0 9 * * MON`, ou quotidien, hebdomadaire ou mensuel
repeat-not-five-fields = `{ $value }` n'est pas une récurrence : écrivez quotidien, hebdomadaire ou mensuel, ou une expression cron de 5 champs (minute heure jour-du-mois mois jour-de-la-semaine), alors qu'elle en a { $count }
repeat-not-a-cron = `{ $value }` n'est pas une expression cron valide : minute 0-59, heure 0-23, jour du mois 1-31, mois 1-12 ou JAN-DEC, jour de la semaine 0-7 ou MON-SUN, chacun une valeur, un intervalle (1-5), une liste (1,15) ou un pas (*/2)
repeat-never = `{ $value }` n'a aucune occurrence après le début de la campagne
repeat-shorter-than-window = les exécutions de `{ $value }` peuvent n'être espacées que de { $step }, moins que la fenêtre de la campagne ({ $duration }) : chaque exécution doit finir avant que la suivante commence. Répétez moins souvent ou raccourcissez la durée
repeat-not-with-local-time = une campagne récurrente suit le fuseau de la campagne : `heure: locale` ne peut pas être combiné avec `répéter`
repeat-word = { $word ->
    [daily] quotidien (chaque jour à l'heure du début)
    [weekly] hebdomadaire (chaque semaine, le jour et à l'heure du début)
   *[monthly] mensuel (chaque mois, le jour du mois et à l'heure du début ; le dernier jour d'un mois qui n'a pas ce jour)
}
repeat-label = Récurrence :
repeat-label-next = Prochaines exécutions :
repeat-runs-so-far = { $count ->
    [0] Aucune exécution n'a encore commencé.
    [one] { $count } exécution a commencé.
   *[other] { $count } exécutions ont commencé.
}
repeat-next-none = aucune (la récurrence n'a plus d'occurrence)
repeat-stopped-on = aucune : arrêtée le { $at }
repeat-stop-done = Campagne { $name } arrêtée : plus aucune exécution.
repeat-stop-running = L'exécution { $run } a déjà commencé et va jusqu'à son terme.
repeat-stop-removed = { $count ->
    [one] L'exécution { $runs }, qui était planifiée, n'aura pas lieu.
   *[other] Les exécutions { $runs }, qui étaient planifiées, n'auront pas lieu.
}
repeat-stop-already = La campagne { $name } était déjà arrêtée depuis le { $at }.
repeat-stop-not-repeating = La campagne { $name } ne se répète pas : il n'y a rien à arrêter (une campagne commencée n'est jamais annulée).
repeat-stop-not-started = La campagne { $name } n'a pas encore commencé : changez son **répéter:** (ou écrivez **répéter: non**) avec **campagne modifier**, ou supprimez-la.
repeat-report-run = Exécution { $run } sur { $runs }, débutant le { $start }
repeat-report-earlier = Exécutions précédentes :
repeat-report-line = - Exécution { $run } : { $start }, { $status }, { $delivered }/{ $installed } remis
repeat-report-more = Tapez **campagne rapport { $name } { $run }** pour le rapport d'une exécution.
repeat-report-not-repeating = La campagne { $name } ne se répète pas : tapez **campagne rapport** suivi de son seul nom.
repeat-run-not-a-number = `{ $run }` n'est pas un numéro d'exécution : tapez par exemple **campagne rapport { $name } 2**.
repeat-no-such-run = La campagne { $name } n'a pas d'exécution { $run } : { $runs ->
    [one] elle en a eu { $runs } jusqu'ici.
   *[other] elle en a eu { $runs } jusqu'ici (1 à { $runs }).
}
form-label-repeat = Répéter (une expression cron comme 0 9 * * MON, ou quotidien, hebdomadaire, mensuel ; vide : une fois)
admin-help-repeat = **répéter:** dans une campagne la rend récurrente : une expression cron dans le fuseau de la campagne (**répéter: 0 9 * * MON**, chaque lundi à 09:00), ou **quotidien**, **hebdomadaire** ou **mensuel** comptés depuis son début (même heure ; même jour de la semaine ; même jour du mois, ou le dernier jour du mois). Chaque occurrence est une exécution avec la fenêtre et les horaires de la campagne, envoyée à la liste telle qu'elle est au début de l'exécution ; la fenêtre doit être plus courte que l'intervalle entre deux exécutions.

    - **campagne info** *nom* : les prochaines exécutions
    - **campagne rapport** *nom* [*exécution*] : la dernière exécution et une ligne par exécution précédente, ou une exécution
    - **campagne arrêter** *nom* : plus aucune exécution (une exécution commencée va jusqu'au bout)
