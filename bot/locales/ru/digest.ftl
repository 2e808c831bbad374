# Утренняя сводка (bot/jobs/digest.py, bot/rendering/digest.py) и её часть в /settings.

digest-title = ☀️ <b>Сводка на { DATETIME($day, dateStyle: "full") }</b>
digest-title-own = ☀️ <b>Ваша сводка на { DATETIME($day, dateStyle: "full") }</b>
digest-today = <b>Сегодня</b> { $count ->
    [one] { $count } запланированный звонок:
    [few] { $count } запланированных звонка:
   *[many] { $count } запланированных звонков:
}
digest-today-none = <b>Сегодня</b> запланированных звонков нет.
digest-more = …и ещё { $count }: /list
digest-yesterday = <b>Вчера</b>: состоялось { $processed } · не состоялось { $unsuccessful } · прервано { $terminated }
digest-yesterday-none = <b>Вчера</b> ни одна консультация не завершилась.
digest-hand = <b>Требует внимания</b>
digest-hand-none = <b>Требует внимания</b>: ничего.
digest-hand-unknown = Запуски без подтверждения (ответ сервиса потерян): { $count }
digest-hand-unrepeated = Не состоялись и не запущены повторно: { $count }

## /settings
digest-setting-at =
    <b>Утренняя сводка</b>: в { $time }{ $default ->
        [yes] {" "}(по умолчанию для вашей роли)
       *[no] {""}
    }, следующая { $next }.
    Звонки на сегодня, итоги вчерашнего дня и что требует внимания — одним сообщением.
digest-setting-off =
    <b>Утренняя сводка</b>: выключена.
    Выберите время, чтобы каждое утро получать звонки на сегодня, итоги вчерашнего дня и что требует внимания.
digest-next-today = сегодня
digest-next-tomorrow = завтра
digest-button-off = Выключить
digest-button-other = Другое время…
digest-button-other-current = ✓ { $time } · другое…
digest-set-toast = Утренняя сводка: { $time }.
digest-off-toast = Утренняя сводка выключена.
digest-time-ask = Напишите время утренней сводки в виде ЧЧ:ММ, например <code>08:30</code> (ваш пояс: { $zone }). /cancel — оставить как есть.
digest-time-bad = Не понял время. Напишите его в виде ЧЧ:ММ, например <code>08:30</code> или <code>7:45</code>, или нажмите /cancel.
