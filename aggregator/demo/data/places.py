"""Toulouse-area communes: postcode, centroid, streets and quarters (approximate, for the demo)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Commune:
    postcode: str
    city: str
    lat: float
    lon: float
    #: Shops are placed within this distance of the centroid.
    radius_km: float
    #: Relative share of the catalogue's shops.
    weight: float
    #: ``toulouse``, ``north``, ``west``, ``southeast`` or ``east``: the platforms favour zones.
    zone: str
    streets: tuple[str, ...]
    #: (bare name, "de" form): "Saint-Cyprien" / "de Saint-Cyprien", "Les Carmes" / "des Carmes".
    quarters: tuple[tuple[str, str], ...]


def _q(*names: str) -> tuple[tuple[str, str], ...]:
    out = []
    for name in names:
        if name.startswith("Les "):
            out.append((name, "des " + name[4:]))
        elif name.startswith("Le "):
            out.append((name, "du " + name[3:]))
        elif name.startswith("La "):
            out.append((name, "de la " + name[3:]))
        elif name.startswith("L'"):
            out.append((name, "de l'" + name[2:]))
        elif name[0] in "AEIOUÉ":
            out.append((name, "d'" + name))
        else:
            out.append((name, "de " + name))
    return tuple(out)


_SUBURB_QUARTERS = _q("Le Centre", "La Place", "Le Marché", "L'Église")

# Word lists read best as tables.
# fmt: off
COMMUNES: tuple[Commune, ...] = (
    Commune("31000", "Toulouse", 43.6045, 1.4442, 0.8, 14, "toulouse", (
        "rue d'Alsace-Lorraine", "rue Saint-Rome", "place Saint-Georges", "rue des Filatiers",
        "rue de Metz", "rue du Taur", "rue des Changes", "rue Croix-Baragnon", "rue de la Pomme",
        "rue Peyrolières", "boulevard de Strasbourg", "allées Jean Jaurès", "rue Bayard",
        "rue de Rémusat", "place Wilson", "rue Gambetta", "rue Ozenne", "rue Boulbonne",
        "rue des Arts", "place des Carmes", "rue Pargaminières", "rue de la Colombette",
    ), _q("Capitole", "Les Carmes", "Saint-Étienne", "Saint-Georges", "Esquirol",
          "Arnaud-Bernard", "Saint-Sernin", "Compans")),
    Commune("31100", "Toulouse", 43.5760, 1.4010, 1.6, 6, "toulouse", (
        "avenue de Lardenne", "route de Seysses", "avenue de Muret", "route de Saint-Simon",
        "avenue de Reynerie", "chemin de Basso Cambo", "rue du Lot", "avenue Eisenhower",
        "place de la Croix de Pierre", "chemin de Tournefeuille",
    ), _q("Bagatelle", "Lardenne", "Saint-Simon", "Le Mirail", "Croix-de-Pierre")),
    Commune("31200", "Toulouse", 43.6330, 1.4480, 1.5, 8, "toulouse", (
        "avenue des Minimes", "boulevard de Suisse", "avenue de Fronton", "route d'Albi",
        "avenue Frédéric Estèbe", "rue Négreneys", "avenue des États-Unis",
        "chemin de Lapujade", "place du Marché aux Cochons", "boulevard Pierre et Marie Curie",
    ), _q("Les Minimes", "Croix-Daurade", "Borderouge", "Lalande", "La Barrière de Paris")),
    Commune("31300", "Toulouse", 43.5985, 1.4200, 1.3, 8, "toulouse", (
        "rue de la République", "place Intérieure Saint-Cyprien", "allées Charles de Fitte",
        "avenue Étienne Billières", "avenue de Grande-Bretagne", "route de Bayonne",
        "chemin de la Flambère", "avenue de Casselardit", "rue Réclusane", "place Roguet",
    ), _q("Saint-Cyprien", "La Patte d'Oie", "Les Arènes", "Purpan", "Casselardit")),
    Commune("31400", "Toulouse", 43.5790, 1.4560, 1.5, 8, "toulouse", (
        "Grande rue Saint-Michel", "route de Narbonne", "avenue de l'URSS", "avenue Crampel",
        "rue des Récollets", "allée des Demoiselles", "avenue de Rangueil", "place du Busca",
        "avenue Saint-Exupéry", "boulevard des Récollets",
    ), _q("Saint-Michel", "Rangueil", "Le Busca", "Saint-Agne", "Empalot", "Montaudran")),
    Commune("31500", "Toulouse", 43.6080, 1.4760, 1.3, 7, "toulouse", (
        "avenue Jean Rieux", "rue de Périole", "avenue de Castres", "avenue Camille Pujol",
        "rue du Faubourg Bonnefoy", "avenue de la Gloire", "rue Louis Plana",
        "boulevard de la Gare", "avenue de Lyon", "avenue Jean Jaurès",
    ), _q("Jolimont", "La Côte Pavée", "Guilheméry", "Bonnefoy", "Marengo", "Soupetard")),
    Commune("31700", "Blagnac", 43.6366, 1.3905, 1.6, 5, "west", (
        "avenue du Général de Gaulle", "rue Pasteur", "avenue de Cornebarrieu", "route de Grenade",
        "place des Arts", "chemin de Ferrié", "rue du Pont", "avenue Parmentier",
    ), _SUBURB_QUARTERS),
    Commune("31770", "Colomiers", 43.6114, 1.3355, 1.7, 5, "west", (
        "allée du Rouergue", "boulevard Victor Hugo", "place Alex Raymond",
        "avenue Édouard Serres", "chemin de Sélery", "rue du Centre", "allée de Naurouze",
    ), _SUBURB_QUARTERS),
    Commune("31170", "Tournefeuille", 43.5850, 1.3440, 1.6, 4, "west", (
        "chemin de Larramet", "avenue du Marquisat", "rue Gaston Doumergue", "place de la Mairie",
        "boulevard Vincent Auriol", "chemin des Ramiers",
    ), _SUBURB_QUARTERS),
    Commune("31270", "Cugnaux", 43.5370, 1.3440, 1.4, 3, "west", (
        "avenue de Toulouse", "rue Nationale", "place de l'Église", "chemin de Lestang",
        "avenue de la Gare",
    ), _SUBURB_QUARTERS),
    Commune("31120", "Portet-sur-Garonne", 43.5235, 1.4060, 1.4, 3, "southeast", (
        "route d'Espagne", "allée Pablo Picasso", "avenue de la Saudrune",
        "rue de l'Ancien Château", "place de la République",
    ), _SUBURB_QUARTERS),
    Commune("31520", "Ramonville-Saint-Agne", 43.5455, 1.4776, 1.1, 5, "southeast", (
        "avenue Tolosane", "place Marnac", "chemin des Canaux", "avenue d'Occitanie",
        "rue des Sports", "avenue de Suisse", "route de Narbonne",
    ), _SUBURB_QUARTERS),
    Commune("31670", "Labège", 43.5310, 1.5330, 1.3, 4, "southeast", (
        "rue de la Découverte", "voie l'Occitane", "avenue de l'Europe", "chemin de Ribaute",
        "rue de l'Ariège", "place Saint-Barthélémy",
    ), _SUBURB_QUARTERS),
    Commune("31650", "Saint-Orens-de-Gameville", 43.5535, 1.5370, 1.3, 4, "southeast", (
        "avenue de Gameville", "avenue de la Marqueille", "chemin de Catalou",
        "rue du Lauragais", "allée des Sports", "place du Marché",
    ), _SUBURB_QUARTERS),
    Commune("31320", "Castanet-Tolosan", 43.5157, 1.4979, 1.1, 4, "southeast", (
        "avenue de Toulouse", "place de l'Église", "rue de la Fontaine", "route de Narbonne",
        "avenue du Lauragais", "rue Pierre Mendès France",
    ), _SUBURB_QUARTERS),
    Commune("31750", "Escalquens", 43.5200, 1.5520, 0.9, 2, "southeast", (
        "avenue de la Gare", "rue du Vieux Château", "place François Mitterrand",
        "chemin de la Plaine",
    ), _SUBURB_QUARTERS),
    Commune("31130", "Balma", 43.6110, 1.4990, 1.2, 4, "east", (
        "avenue de la Plaine", "place de la Libération", "route de Mons", "avenue Pierre Coupeau",
        "rue Saint-Jean", "avenue des Arènes",
    ), _SUBURB_QUARTERS),
    Commune("31130", "Quint-Fonsegrives", 43.5850, 1.5300, 1.0, 2, "east", (
        "place de la Mairie", "avenue de Castres", "chemin de Ribaute", "rue des Écoles",
    ), _SUBURB_QUARTERS),
    Commune("31240", "L'Union", 43.6580, 1.4830, 0.9, 3, "north", (
        "avenue des Pyrénées", "route de Bessières", "boulevard de Ratalens",
        "place de la Mairie", "rue de la Tuilerie",
    ), _SUBURB_QUARTERS),
    Commune("31240", "Saint-Jean", 43.6640, 1.5040, 0.9, 2, "north", (
        "route d'Albi", "avenue de Castelmaurou", "rue de la République", "place de la Mairie",
    ), _SUBURB_QUARTERS),
    Commune("31140", "Aucamville", 43.6700, 1.4270, 0.9, 3, "north", (
        "route de Fronton", "avenue des Mimosas", "rue Jean Jaurès", "place de la Mairie",
        "chemin du Bois de Saget",
    ), _SUBURB_QUARTERS),
    Commune("31140", "Launaguet", 43.6750, 1.4550, 0.8, 2, "north", (
        "chemin des Combes", "rue du Stade", "route de Bessières", "place de la Mairie",
    ), _SUBURB_QUARTERS),
)
# fmt: on

#: City hall of Toulouse (place du Capitole): the centre of the demo area.
TOULOUSE_CENTRE = (43.6045, 1.4440)

#: Landline prefixes used in the area (05 61, 05 62, 05 34, 05 67).
LANDLINE_PREFIXES = ("61", "62", "34", "67")
