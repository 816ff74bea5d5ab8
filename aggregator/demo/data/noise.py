"""How platforms spell things: street-type abbreviations, short city names, category labels."""

from __future__ import annotations

# Word lists read best as tables.
# fmt: off
#: Street word -> spellings seen on the platforms (the first is the commonest).
STREET_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "avenue": ("av.", "Av.", "ave", "Avenue"),
    "boulevard": ("bd", "Bd", "boul.", "Boulevard"),
    "rue": ("r.", "Rue"),
    "place": ("pl.", "Place"),
    "allées": ("all.", "Allées"),
    "allée": ("all.", "Allée"),
    "chemin": ("ch.", "chem.", "Chemin"),
    "route": ("rte", "Rte", "Route"),
    "Saint": ("St",),
    "Sainte": ("Ste",),
    "Général": ("Gal", "Gén."),
}

#: City -> short or sloppy spellings used by traders.
CITY_VARIANTS: dict[str, tuple[str, ...]] = {
    "Toulouse": ("TOULOUSE", "toulouse", "Toulouse Cedex"),
    "Saint-Orens-de-Gameville": ("Saint-Orens", "St Orens de Gameville", "St-Orens"),
    "Ramonville-Saint-Agne": ("Ramonville", "Ramonville St Agne", "RAMONVILLE"),
    "Portet-sur-Garonne": ("Portet sur Garonne", "Portet"),
    "Castanet-Tolosan": ("Castanet", "Castanet Tolosan"),
    "L'Union": ("L Union", "L'UNION", "Lunion"),
    "Quint-Fonsegrives": ("Quint Fonsegrives", "Quint"),
    "Labège": ("Labege", "LABEGE", "Labège Innopole"),
    "Blagnac": ("BLAGNAC",),
    "Colomiers": ("COLOMIERS",),
}

#: Article a platform may put in front of a name starting with this word.
ARTICLES: dict[str, str] = {
    "Cave": "La", "Ferme": "La", "Boutique": "La", "Maison": "La", "Table": "La",
    "Bistrot": "Le", "Comptoir": "Le", "Fournil": "Le", "Pétrin": "Le", "Cellier": "Le",
}

#: Category slug -> the label Click'n CO exports in ``activite`` (slugify gives the slug back).
CLICKNCO_LABELS: dict[str, str] = {
    "epicerie": "Épicerie", "vetements": "Vêtements", "beaute": "Beauté",
    "patisserie": "Pâtisserie",
}

#: Phone spellings (``format_phone`` styles).
PHONE_STYLES: tuple[str, ...] = ("spaced", "dotted", "compact", "intl_spaced", "intl_compact")
