"""Products per category with a price range in EUR (low, high)."""

from __future__ import annotations

# Word lists read best as tables.
# fmt: off
_WINES = (
    ("Côtes du Frontonnais rouge", 7.5, 14.0), ("Fronton rosé", 6.5, 11.0),
    ("Gaillac rouge", 7.0, 16.0), ("Gaillac perlé", 6.0, 9.5), ("Madiran", 11.0, 24.0),
    ("Cahors malbec", 9.0, 22.0), ("Armagnac VSOP (70 cl)", 32.0, 55.0),
    ("Floc de Gascogne", 12.0, 18.0),
)

PRODUCTS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "boulangerie": (
        ("Baguette tradition", 1.15, 1.40), ("Croissant", 1.05, 1.40), ("Chocolatine", 1.15, 1.50),
        ("Pain de campagne", 2.80, 4.20), ("Fougasse aux olives", 3.00, 4.50),
        ("Pain aux céréales", 2.90, 4.00), ("Éclair au chocolat", 2.60, 3.50),
        ("Tarte aux pommes (6 parts)", 14.0, 21.0), ("Fénétra", 3.20, 4.50),
    ),
    "patisserie": (
        ("Fénétra", 3.50, 5.00), ("Macarons (boîte de 12)", 14.0, 22.0),
        ("Paris-Brest", 4.20, 5.50),
        ("Tarte au citron meringuée", 4.00, 5.50), ("Millefeuille", 3.80, 5.00),
        ("Bonbons à la violette (100 g)", 5.50, 8.00), ("Opéra (6 parts)", 24.0, 34.0),
    ),
    "boucherie": (
        ("Saucisse de Toulouse (1 kg)", 11.9, 16.9), ("Entrecôte (kg)", 26.0, 36.0),
        ("Confit de canard (4 cuisses)", 18.0, 26.0), ("Magret de canard", 9.0, 14.0),
        ("Côte de bœuf (kg)", 28.0, 42.0), ("Rôti de porc (kg)", 13.0, 18.0),
        ("Foie gras mi-cuit (200 g)", 19.0, 29.0), ("Cassoulet maison (part)", 8.5, 12.0),
    ),
    "fromagerie": (
        ("Comté 18 mois (250 g)", 6.5, 9.5), ("Roquefort (200 g)", 5.2, 7.8),
        ("Tomme des Pyrénées (kg)", 18.0, 26.0), ("Rocamadour AOP", 1.9, 2.8),
        ("Brebis des Pyrénées (kg)", 22.0, 32.0), ("Bleu des Causses (200 g)", 4.5, 6.5),
        ("Laguiole AOP (250 g)", 6.0, 8.5), ("Cabécou", 1.8, 2.6),
    ),
    "epicerie": (
        ("Huile d'olive (75 cl)", 9.0, 18.0), ("Cassoulet en bocal (1,5 kg)", 12.0, 19.0),
        ("Ail rose de Lautrec (botte)", 6.0, 10.0), ("Miel de châtaignier (500 g)", 8.0, 13.0),
        ("Confiture de figues", 4.5, 7.0), ("Haricots tarbais (500 g)", 8.0, 12.0),
        ("Café en grains (250 g)", 5.5, 9.5), ("Pâtes artisanales (500 g)", 3.5, 5.5),
    ),
    "primeur": (
        ("Tomates de plein champ (kg)", 2.9, 4.9), ("Pommes (kg)", 2.2, 3.8),
        ("Fraises (barquette 500 g)", 3.5, 6.0), ("Melon", 2.0, 4.5),
        ("Panier de légumes de saison", 15.0, 25.0), ("Ail violet (kg)", 8.0, 12.0),
        ("Asperges (botte)", 5.0, 9.0),
    ),
    "caviste": _WINES,
    "cave": (*_WINES[:4], ("Bière artisanale toulousaine (33 cl)", 2.8, 4.5),
             ("Whisky occitan (70 cl)", 38.0, 60.0)),
    "fleuriste": (
        ("Bouquet de saison", 25.0, 55.0), ("Violettes de Toulouse (pot)", 7.0, 12.0),
        ("Orchidée", 22.0, 39.0), ("Composition de deuil", 60.0, 140.0),
        ("Plante verte", 15.0, 45.0),
    ),
    "librairie": (
        ("Roman (grand format)", 19.0, 24.0), ("Roman policier (poche)", 7.5, 9.9),
        ("Bande dessinée", 12.0, 18.0), ("Guide de Toulouse", 9.9, 16.0),
        ("Album jeunesse", 11.0, 16.0), ("Beau livre Occitanie", 29.0, 45.0),
        ("Carte cadeau", 20.0, 20.0),
    ),
    "coiffure": (
        ("Coupe femme", 32.0, 55.0), ("Coupe homme", 18.0, 28.0), ("Brushing", 22.0, 35.0),
        ("Coloration", 45.0, 75.0), ("Taille de barbe", 12.0, 20.0),
    ),
    "restaurant": (
        ("Cassoulet toulousain", 16.0, 24.0), ("Menu du jour", 14.0, 19.0),
        ("Magret de canard frites", 17.0, 23.0), ("Salade gasconne", 13.0, 17.0),
        ("Formule midi", 12.5, 16.5),
    ),
    "pizzeria": (
        ("Pizza Margherita", 9.0, 12.0), ("Pizza Reine", 11.0, 14.0),
        ("Pizza 4 fromages", 12.0, 15.0), ("Calzone", 12.0, 15.0), ("Tiramisu", 5.0, 7.0),
    ),
    "bar": (
        ("Bière pression (50 cl)", 5.5, 7.5), ("Café", 1.5, 2.2), ("Planche mixte", 14.0, 20.0),
        ("Verre de Fronton", 4.0, 5.5),
    ),
    "vetements": (
        ("T-shirt coton bio", 25.0, 39.0), ("Jean", 69.0, 120.0), ("Pull en laine", 59.0, 110.0),
        ("Robe d'été", 45.0, 89.0), ("Veste", 89.0, 180.0),
    ),
    "chaussures": (
        ("Baskets", 65.0, 130.0), ("Espadrilles", 25.0, 45.0), ("Bottines cuir", 95.0, 180.0),
        ("Sandales", 40.0, 90.0),
    ),
    "bijouterie": (
        ("Bague argent", 45.0, 120.0), ("Collier plaqué or", 39.0, 95.0), ("Montre", 89.0, 350.0),
        ("Croix occitane en argent", 35.0, 80.0), ("Boucles d'oreilles", 25.0, 85.0),
    ),
    "opticien": (
        ("Monture optique", 89.0, 260.0), ("Lunettes de soleil", 79.0, 220.0),
        ("Lentilles (boîte mensuelle)", 22.0, 39.0),
    ),
    "quincaillerie": (
        ("Double de clé", 4.0, 12.0), ("Ampoule LED", 4.5, 9.0), ("Cadenas", 9.0, 25.0),
        ("Vis (boîte de 100)", 5.0, 9.0), ("Tournevis", 6.0, 15.0),
    ),
    "producteur": (
        ("Panier de légumes", 15.0, 25.0), ("Œufs fermiers (douzaine)", 3.8, 5.2),
        ("Miel toutes fleurs (500 g)", 7.0, 11.0), ("Poulet fermier", 14.0, 22.0),
        ("Jus de pommes (1 l)", 3.0, 4.5), ("Ail rose (botte)", 6.0, 9.0),
    ),
    "artisanat": (
        ("Écharpe teinte au pastel", 45.0, 95.0), ("Bol en céramique", 18.0, 35.0),
        ("Savon artisanal", 5.0, 8.0), ("Bougie parfumée", 15.0, 28.0),
        ("Sac en cuir", 79.0, 190.0),
    ),
    "beaute": (
        ("Soin du visage", 45.0, 75.0), ("Crème hydratante", 19.0, 39.0), ("Manucure", 25.0, 40.0),
        ("Coffret cadeau", 35.0, 70.0),
    ),
    "sport": (
        ("Maillot de rugby", 55.0, 90.0), ("Ballon de rugby", 19.0, 35.0),
        ("Chaussures de running", 79.0, 150.0), ("Révision vélo", 35.0, 60.0),
    ),
    "jouets": (
        ("Jeu de société", 19.0, 45.0), ("Puzzle 1000 pièces", 14.0, 24.0), ("Peluche", 12.0, 30.0),
        ("Jouet en bois", 15.0, 40.0), ("Kit de construction", 25.0, 60.0),
    ),
}
# fmt: on

#: Categories whose shops usually sell to take away.
TAKEAWAY_CATEGORIES = frozenset({"boulangerie", "patisserie", "restaurant", "pizzeria", "bar"})
